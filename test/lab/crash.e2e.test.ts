// Crashes: a lab whose builder was SIGKILLed (after building, state file lost; or half-way) is removed by `vnet lab down`; Ctrl-C during `up` cleans up itself.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { waitFor } from '../lib/wait-for.js';
import { alive, leftovers, namespacesOf, report, testPrefix } from './helpers.js';

const used: string[] = [];
function prefix(tag: string): string {
  const p = testPrefix(tag);
  used.push(p);
  return p;
}

after(async () => {
  for (const p of used) await cleanupLeftovers(p);
});

/** Start the child that builds a lab (test/lab/crash-child.ts) and then waits to be killed. */
function startChild(p: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/lab/crash-child.ts', p], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function ovsPids(p: string): number[] {
  const out: number[] = [];
  for (const h of ['h1', 'h2', 'h3'])
    for (const d of ['ovsdb-server', 'ovs-vswitchd']) {
      const f = `/tmp/${p}/${h}/${d}.pid`;
      if (existsSync(f)) out.push(Number(readFileSync(f, 'utf8').trim()));
    }
  return out;
}

test('a crashed lab (builder killed after building; state file lost; stray processes) is removed by down', async () => {
  const p = prefix('k');
  const child = startChild(p);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let stray: ChildProcess | undefined;
  try {
    await waitFor(() => out.includes('ready') || child.exitCode !== null, 'the child lab', {
      timeoutMs: 60_000,
      everyMs: 10,
    });
    assert.match(out, /ready/, 'the child built its lab');
    const spawned = JSON.parse(out.split('ready ')[1]!) as number[];
    // A process someone started by hand in a VM netns, without the lab's marker.
    stray = spawn('ip', ['netns', 'exec', `${p}-vm1`, 'sleep', '600'], { stdio: 'ignore', detached: true });
    const daemons = ovsPids(p);
    assert.equal(daemons.length, 6);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Lose the state file too: cleanup must find everything by prefix alone.
    rmSync(`/tmp/${p}/lab.json`);
    for (const pid of [...spawned, ...daemons, stray.pid!]) assert.ok(alive(pid), `pid ${pid} survived the crash`);
    const down = spawnSync('bin/vnet', ['lab', 'down', '--prefix', p], { encoding: 'utf8', timeout: 60000 });
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, /10 namespaces deleted/);
    for (const pid of [...spawned, ...daemons, stray.pid!]) assert.ok(!alive(pid), `pid ${pid} was stopped by down`);
    assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
  } finally {
    child.kill('SIGKILL');
    stray?.kill('SIGKILL');
    await cleanupLeftovers(p);
  }
});

test('a lab whose builder died half-way is removed by down', async () => {
  const p = prefix('m');
  const child = startChild(p);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    // Kill as soon as the first OVS daemon runs: hosts half made, no VMs yet.
    await waitFor(() => ovsPids(p).length > 0 || child.exitCode !== null, 'the first OVS daemon', {
      timeoutMs: 60_000,
      everyMs: 10,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.doesNotMatch(out, /ready/, 'the builder died before finishing');
    assert.ok(namespacesOf(p).length > 0, 'the crash left namespaces');
    const down = spawnSync('bin/vnet', ['lab', 'down', '--prefix', p], { encoding: 'utf8', timeout: 60000 });
    assert.equal(down.status, 0, down.stderr);
    assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
    // After the crash the prefix is usable again at once.
    const lab = await Lab.up(defaultTopology(2, 2), { prefix: p });
    try {
      const r = await lab.waitPing('vm1', '10.0.0.12', { timeoutMs: 15000 });
      assert.ok(r.ok, await report(lab, 'vm1', 'vm2'));
    } finally {
      await lab.down();
    }
  } finally {
    child.kill('SIGKILL');
    await cleanupLeftovers(p);
  }
});

test('Ctrl-C during vnet lab up removes the half-built lab (exit 130)', async () => {
  const p = prefix('i');
  const child = spawn('bin/vnet', ['lab', 'up', '--prefix', p, '--hosts', '3', '--vms', '6'], { stdio: 'pipe' });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const until = Date.now() + 30000;
  while (!existsSync(`/tmp/${p}/h1/ovsdb-server.pid`) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGINT');
  assert.equal(await exited, 130, err);
  assert.match(err, /interrupted; removing the half-built lab/);
  assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
});
