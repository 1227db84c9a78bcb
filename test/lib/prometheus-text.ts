// Reading /metrics in tests: Prometheus's own parser and linter (`promtool check metrics`, Debian's `prometheus`
// package, which `make setup` installs) on the whole text, and sample values by name and labels.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

/**
 * Fails unless promtool parses `text` and finds nothing to lint in our own (`vnet_`) metrics; prom-client's
 * process metrics keep names promtool dislikes (nodejs_active_handles_total is a gauge), which are not ours.
 * Without promtool: skips outside CI, fails in CI (CI=true), where `make setup` must have installed it.
 */
export function assertPromtoolAccepts(t: TestContext, text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    const why = 'promtool is missing: `make setup` installs it (Debian package prometheus)';
    if (process.env.CI === 'true') assert.fail(`${why}; CI must have it`);
    t.skip(why);
    return;
  }
  const out = `${r.stdout}${r.stderr}`;
  // Exit 1: the text did not parse; 3: lint problems (listed one a line, naming the metric first).
  assert.ok(r.status === 0 || r.status === 3, `promtool check metrics failed (exit ${r.status}):\n${out}`);
  const ours = out.split('\n').filter((l) => l.startsWith('vnet_') || /error|parsing/i.test(l));
  assert.deepEqual(ours, [], `promtool on our metrics:\n${out}`);
}

/** The value of the sample `name{labels}` (labels given must all match; others may be present), or undefined. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}
