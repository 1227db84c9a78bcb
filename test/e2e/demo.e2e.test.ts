// `vnet demo --once` (the README's first command, non-interactive): the matrix is all as expected,
// the exit status says so, and nothing of the lab is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { Lab } from '../../src/lab/lab.js';
import { VNET_BIN } from '../../src/demo/cluster.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const prefix = labPrefix('edemo');

after(async () => {
  // Only if the demo failed to clean up after itself.
  await Lab.destroy(prefix).catch(() => undefined);
});

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(VNET_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

test('vnet demo --once prints a fully expected matrix, exits 0 and cleans up', async () => {
  assertE2eEnvironment();
  const r = await run(['demo', '--once', '--prefix', prefix], 50_000);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /all 42 cells as expected/);
  // North-south: SNAT, the floating IP both ways.
  assert.match(r.out, /ns4 .* seen as 192\.168\.10\.11 .* ok$/m);
  assert.match(r.out, /ns1 .* seen as 192\.168\.10\.50 .* ok$/m);
  assert.match(r.out, /internet host → 192\.168\.10\.50 .* ok$/m);
  // ...and the way out has not taken the way between the router's inside networks.
  assert.match(r.out, /ns1 → 172\.16\.2\.3 \(routed inside, not out\) {2}ok$/m);
  assert.match(r.out, /ns4 → 172\.16\.1\.2 \(routed inside, not out\) {2}ok$/m);
  assert.match(r.out, /ns5 {2,}.* ok /, 'net3 VMs reach each other');
  assert.doesNotMatch(r.out, / (FAIL|LEAK)( {2,}|$)/m);
  const { stdout } = await new Promise<{ stdout: string }>((resolve) => {
    const c = spawn('ip', ['netns', 'list'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    c.stdout.on('data', (d: Buffer) => (s += d.toString()));
    c.on('close', () => resolve({ stdout: s }));
  });
  assert.doesNotMatch(stdout, new RegExp(`^${prefix}-`, 'm'), 'demo left namespaces behind');
  assert.equal(existsSync(`/tmp/${prefix}`), false, 'demo left its run dir behind');
});
