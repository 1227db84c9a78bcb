#!/usr/bin/env node
// Test runner: finds test files by tier and runs them in ONE node:test invocation so the
// output ends with node's own summary (CI reads it). Node 20 has no glob in --test.
//   node scripts/run-tests.mjs [--tier unit|ovs|e2e|all] [substring...]
// Tiers by file name: *.test.ts = unit, *.ovs.test.ts = real OVS, *.e2e.test.ts = namespaces lab.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
let tier = 'all';
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tier') tier = args[++i] ?? 'all';
  else filters.push(args[i]);
}

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const tierOf = (f) => (f.endsWith('.e2e.test.ts') ? 'e2e' : f.endsWith('.ovs.test.ts') ? 'ovs' : 'unit');
const order = { unit: 0, ovs: 1, e2e: 2 };
const files = walk(join(root, 'test'))
  .filter((f) => tier === 'all' || tierOf(f) === tier)
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => order[tierOf(a)] - order[tierOf(b)] || a.localeCompare(b))
  .map((f) => relative(root, f));
if (files.length === 0) {
  console.error(`no test files for tier=${tier} ${filters.join(' ')}`);
  process.exit(1);
}
// Root-only tiers share namespaces/OVS and the 2 cores: one file at a time keeps them honest.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--enable-source-maps', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  // NODE_ENV=test reaches every process the tests start (bin/vnet agents too), so the table contract is checked.
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'test' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
