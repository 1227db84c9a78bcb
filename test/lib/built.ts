// The compiled dist/ that bin/vnet and bin/vnctl run: `npm test` builds first; a developer running one file
// alone gets a build when src/ changed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = process.cwd();

/** Newest modification time under a directory (for "is dist/ older than src/"). */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newest(join(path, n))));
}

/** `npm test` builds first; a developer running this file alone gets a build when src/ changed. */
export function ensureBuilt(): void {
  const entry = join(ROOT, 'dist/main.js');
  if (
    existsSync(entry) &&
    existsSync(join(ROOT, 'dist/cli/vnctl.js')) &&
    newest(join(ROOT, 'src')) <= statSync(entry).mtimeMs
  )
    return;
  // Other areas' in-progress files may have type errors; tsc still emits, so judge by the outputs.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  assert.ok(existsSync(entry), 'dist/main.js missing after build');
}
