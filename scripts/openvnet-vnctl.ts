// OpenVNet's own Ruby vnctl over the OpenVNet command set (test/fixtures/openvnet-vnctl/commands.txt) against a
// fresh vnet server: the proof that scripts written for OpenVNet's CLI keep working. By hand, not in CI: it needs
// OpenVNet's and fuguta's source (git repositories, e.g. as the `fetch` tool brings them), which the project does
// not ship, and Debian's ruby and ruby-thor (vnctl's other dependency).
//   node --import tsx scripts/openvnet-vnctl.ts --openvnet GIT_DIR --fuguta GIT_DIR [--json FILE]
// Prints each line that OpenVNet's vnctl did not get the object for, then the count; exit 0 when every line not
// listed as a known difference (test/lib/vnctl-command-set.ts) was accepted, 1 otherwise, 2 when it
// could not run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServerProcess } from '../bench/lib/server-process.js';
import { KNOWN_DIFFERENCES, readCommandSet, runCommandSet } from '../test/lib/vnctl-command-set.js';

const { values } = parseArgs({
  options: { openvnet: { type: 'string' }, fuguta: { type: 'string' }, json: { type: 'string' } },
});
const die = (msg: string): never => {
  process.stderr.write(`openvnet-vnctl: ${msg}\n`);
  process.exit(2);
};
if (!values.openvnet || !values.fuguta) die('--openvnet GIT_DIR and --fuguta GIT_DIR are required');
if (spawnSync('ruby', ['-e', 'require "thor"']).status !== 0)
  die('needs ruby and ruby-thor (apt-get install ruby ruby-thor)');

// OpenVNet's vnctl and fuguta's lib, unpacked from their repositories as they are (nothing of them is changed).
const dir = mkdtempSync(join(tmpdir(), 'openvnet-vnctl-'));
const unpack = (gitDir: string, path: string) =>
  execFileSync('sh', ['-c', `git --git-dir="$0" archive HEAD "$1" | tar -x -C "$2"`, gitDir, path, dir]);
unpack(values.openvnet!, 'client/vnctl');
unpack(values.fuguta!, 'lib');
const vnctlDir = join(dir, 'client', 'vnctl');
// bin/vnctl loads vendor/bundle/bundler/setup.rb when there (an installed bundle), else Bundler: an empty one
// makes it take fuguta and thor from RUBYLIB and Debian's ruby-thor.
mkdirSync(join(vnctlDir, 'vendor', 'bundle', 'bundler'), { recursive: true });
writeFileSync(join(vnctlDir, 'vendor', 'bundle', 'bundler', 'setup.rb'), '');

const server = await startServerProcess('openvnet-vnctl');
try {
  const { hostname, port } = new URL(server.base);
  const env = { ...process.env, RUBYLIB: join(dir, 'lib'), VNET_WEBAPI: `${hostname}:${port}`, HOME: dir };
  const steps = readCommandSet();
  const results = await runCommandSet(steps, async (argv) => {
    const r = spawnSync('ruby', ['-W0', join(vnctlDir, 'bin', 'vnctl'), ...argv], { env, encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  });
  const unexpected = results.filter((r) => r.ok === r.step.text in KNOWN_DIFFERENCES);
  for (const r of results.filter((x) => !x.ok))
    console.log(
      `${r.step.text in KNOWN_DIFFERENCES ? 'known' : 'FAIL '} line ${r.step.line}: ${r.step.text}\n      → ${r.why}`,
    );
  const passed = results.filter((r) => r.ok).length;
  console.log(
    `OpenVNet's Ruby vnctl: ${passed} of ${results.length} accepted; ${results.length - passed} refused ` +
      `(${Object.keys(KNOWN_DIFFERENCES).length} known differences); ${unexpected.length} unexpected`,
  );
  if (values.json) writeFileSync(values.json, JSON.stringify({ total: results.length, passed, results }, null, 2));
  process.exitCode = unexpected.length === 0 ? 0 : 1;
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
