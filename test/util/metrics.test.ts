// The metric declarations: docs/metrics.md's tables are the generated ones, every name follows Prometheus's
// conventions, and each declaration builds a registry of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_METRICS } from '../../src/agent/runtime/metrics.js';
import { SERVER_METRICS } from '../../src/server/metrics.js';
import { createMetrics, type MetricSpec, metricsTableMarkdown, mirror } from '../../src/util/metrics.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/metrics.md'), 'utf8');
const REGENERATE = 'regenerate with `node --import tsx scripts/gen-metrics-docs.mjs`';
const LISTS: [string, readonly MetricSpec[]][] = [
  ['server-metrics', SERVER_METRICS],
  ['agent-metrics', AGENT_METRICS],
];

test('the tables in docs/metrics.md are the ones generated from the declarations', () => {
  for (const [marker, specs] of LISTS) {
    const m = new RegExp(`<!-- ${marker}:begin -->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`).exec(doc);
    assert.ok(m, `${marker} markers missing`);
    assert.equal(m[1], metricsTableMarkdown(specs), `${marker}: ${REGENERATE}`);
  }
});

test('names and labels follow Prometheus conventions', () => {
  const seen = new Set<string>();
  for (const [, specs] of LISTS)
    for (const s of specs) {
      assert.match(s.name, /^vnet_[a-z][a-z0-9_]*[a-z0-9]$/, `${s.name}: vnet_ and snake_case`);
      assert.ok(!seen.has(s.name), `${s.name} declared twice`);
      seen.add(s.name);
      if (s.type === 'counter') assert.ok(s.name.endsWith('_total'), `${s.name}: a counter ends in _total`);
      else assert.ok(!s.name.endsWith('_total'), `${s.name}: only counters end in _total`);
      if (/duration|latency|_time/.test(s.name)) assert.ok(s.name.endsWith('_seconds'), `${s.name}: in seconds`);
      assert.ok(!/_(ms|milliseconds|kb|mb|kib|mib)(_|$)/.test(s.name), `${s.name}: base units only`);
      if (s.type === 'histogram') assert.ok(/_(seconds|bytes)$/.test(s.name), `${s.name}: a histogram names its unit`);
      for (const l of s.labels ?? []) {
        assert.match(l, /^[a-z][a-z0-9_]*$/, `${s.name}: label ${l}`);
        assert.notEqual(l, 'le', `${s.name}: le is the histograms' own label`);
      }
      assert.ok(s.help.length > 10 && !s.help.includes('\n'), `${s.name}: one line of help`);
    }
});

test('each set of metrics has its own registry; mirror sets counts kept elsewhere', async () => {
  const specs = [
    { name: 'vnet_test_things_total', type: 'counter', help: 'things counted elsewhere', labels: ['kind'] },
    { name: 'vnet_test_level', type: 'gauge', help: 'a level read when scraped' },
  ] as const;
  let things: Record<string, number> = { a: 1 };
  const a = createMetrics(specs, {
    collect: {
      vnet_test_things_total: (c) => mirror(c, things, 'kind'),
      vnet_test_level: (g) => mirror(g, 7),
    },
  });
  const b = createMetrics(specs);
  b.m.vnet_test_things_total.inc({ kind: 'z' });
  let text = await a.text();
  assert.match(text, /^vnet_test_things_total\{kind="a"\} 1$/m);
  assert.match(text, /^vnet_test_level 7$/m);
  things = { a: 3, b: 2 };
  text = await a.text();
  assert.match(text, /^vnet_test_things_total\{kind="a"\} 3$/m);
  assert.match(text, /^vnet_test_things_total\{kind="b"\} 2$/m);
  assert.ok(!text.includes('kind="z"'));
  assert.match(await b.text(), /^vnet_test_things_total\{kind="z"\} 1$/m);
  assert.ok(!(await b.text()).includes('process_cpu'), 'process metrics only when asked for');
});
