// The metadata endpoint across agent restarts, on real OVS (issue 18, a CI run's diagnostics): after a kill -9
// the restarted agent found its namespace gone with its predecessor, waited forever for a vnet-meta device that
// would never come back, and ovs-vswitchd spun at ~97 % CPU on the dead tap ("File descriptor in bad state").
// Now: a restarted agent reuses the namespace and the port as they are (same ofport, same flows), the endpoint
// answers a VM again each time, and ovs-vswitchd stays idle; a namespace lost while the agent was away is made
// again and the port re-added with its ofport.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { ovsAlive } from '../../src/lab/ovs-instance.js';
import { addSeedVm, assertE2eEnvironment, flowTable, labPrefix } from './helpers.js';

/** What ovs-vswitchd logs for a tap whose device is gone (and its poll loop, when it spins on it). */
const DEAD_DEVICE = /File descriptor in bad state|POLLERR/;
/** ovs-vswitchd's CPU time over 5 s of nothing happening, at most: idle it takes ~0.02 s, spinning ~1–2.5 s. */
const IDLE_CPU_S = 0.5;

let cluster: Cluster;
let vswitchdPid: number;
let vswitchdLog: string;
let netns: string;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('emrs'), hosts: ['h1'] });
  const dps = [...(await cluster.waitDatapaths()).values()].map((d) => ({ uuid: String(d.uuid) }));
  await cluster.apply(seedApiCalls(dps));
  await addSeedVm(cluster, 'ns1', 'h1');
  await cluster.waitInSync(30_000);
  const h = cluster.lab.host('h1');
  const pid = ovsAlive(h.ovs.dir).vswitchd;
  assert.ok(pid, 'ovs-vswitchd of h1 is not running');
  vswitchdPid = pid;
  vswitchdLog = h.ovs.logs().vswitchd;
  netns = `${h.netns}-md`;
  await instanceIdUntilAnswered();
});

after(async () => {
  await cluster?.down();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ns1's instance-id from 169.254.169.254, asked until it answers (a generous 30 s: a stuck endpoint never does). */
async function instanceIdUntilAnswered(): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await cluster.lab.exec(
      'ns1',
      ['curl', '-sf', '-m', '3', '--noproxy', '*', 'http://169.254.169.254/latest/meta-data/instance-id'],
      { timeoutMs: 15_000 },
    );
    if (r.code === 0) return r.stdout;
    if (Date.now() > deadline)
      assert.fail(
        `the metadata endpoint did not answer ns1 within 30 s\nagent log:\n${agentLog()}\n${await cluster.diagnostics()}`,
      );
    await sleep(200);
  }
}

function agentLog(): string {
  return cluster.agents.get('h1')!.logTail(300);
}

/** ovs-vswitchd's user+system CPU time so far, in seconds (/proc/<pid>/stat fields 14 and 15, in clock ticks). */
function vswitchdCpuS(): number {
  const fields = readFileSync(`/proc/${vswitchdPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function assertVswitchdIdle(why: string): Promise<void> {
  const before = vswitchdCpuS();
  await sleep(5000);
  const used = vswitchdCpuS() - before;
  assert.ok(used <= IDLE_CPU_S, `ovs-vswitchd used ${used.toFixed(2)} s of CPU in 5 s ${why}`);
}

async function metadataOfport(): Promise<string> {
  return (await cluster.lab.host('h1').vsctl('get', 'Interface', 'vnet-meta', 'ofport')).trim();
}

async function waitAgentInSync(): Promise<void> {
  for (let i = 0; i < 300 && !agentLog().includes('in sync since process start'); i++) await sleep(100);
  await cluster.waitInSync(30_000);
}

test('kill -9 of the agent, twice: the endpoint answers each time, its port reused, ovs-vswitchd idle', async () => {
  const ofport = await metadataOfport();
  const expected = await instanceIdUntilAnswered();
  const flows = await flowTable(cluster, 'h1');
  for (const round of [1, 2]) {
    await cluster.stopAgent('h1', 'SIGKILL');
    await sleep(1000);
    await cluster.startAgent('h1');
    assert.equal(await instanceIdUntilAnswered(), expected, `round ${round}: another instance-id`);
    const log = agentLog();
    assert.doesNotMatch(log, /metadata endpoint not ready/, `round ${round}: the endpoint retried:\n${log}`);
    assert.doesNotMatch(log, /adding its port again|did not outlive/, `round ${round}: not reused:\n${log}`);
    assert.equal(await metadataOfport(), ofport, `round ${round}: the metadata port has another ofport`);
    await assertVswitchdIdle(`after restart ${round}`);
    await waitAgentInSync();
    assert.deepEqual(await flowTable(cluster, 'h1'), flows, `round ${round}: the flow table changed`);
  }
  const dead = readFileSync(vswitchdLog, 'utf8')
    .split('\n')
    .filter((l) => DEAD_DEVICE.test(l));
  assert.deepEqual(dead.slice(0, 5), [], 'ovs-vswitchd read a dead vnet-meta device');
});

test('the namespace lost while the agent was away: made again, the port re-added with its ofport', async () => {
  const ofport = await metadataOfport();
  const expected = await instanceIdUntilAnswered();
  await cluster.stopAgent('h1', 'SIGKILL');
  // What an operator's cleanup, or an agent run in a private mount namespace, leaves: the device is gone with the
  // namespace, and ovs-vswitchd holds a dead tap for the port.
  execFileSync('ip', ['netns', 'delete', netns]);
  await cluster.startAgent('h1');
  assert.equal(await instanceIdUntilAnswered(), expected);
  const log = agentLog();
  assert.match(log, /the vnet-meta device is gone; adding its port again/);
  assert.equal(await metadataOfport(), ofport, 'the re-added port has another ofport');
  await assertVswitchdIdle('after the port was re-added');
  const deadLines = () =>
    readFileSync(vswitchdLog, 'utf8')
      .split('\n')
      .filter((l) => DEAD_DEVICE.test(l)).length;
  const seen = deadLines();
  await sleep(3000);
  assert.equal(deadLines(), seen, 'ovs-vswitchd still reads a dead device');
});
