#!/usr/bin/env node
// Rewrites docs/metrics.md's tables from the metric declarations (SERVER_METRICS, AGENT_METRICS).
//   node --import tsx scripts/gen-metrics-docs.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_METRICS } from '../src/agent/runtime/metrics.ts';
import { SERVER_METRICS } from '../src/server/metrics.ts';
import { metricsTableMarkdown, withGenerated } from '../src/util/metrics.ts';

const file = join(fileURLToPath(import.meta.url), '..', '..', 'docs', 'metrics.md');
const before = readFileSync(file, 'utf8');
let after = withGenerated(before, 'server-metrics', metricsTableMarkdown(SERVER_METRICS));
after = withGenerated(after, 'agent-metrics', metricsTableMarkdown(AGENT_METRICS));
if (after === before) console.log('docs/metrics.md is up to date');
else {
  writeFileSync(file, after);
  console.log('docs/metrics.md rewritten');
}
