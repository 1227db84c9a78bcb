// Shared by the order-independence tests: build a two-host lab step by step in a given order,
// then check the seed matrix (VMs of each network on both hosts).
import assert from 'node:assert/strict';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addSeedVm, assertE2eEnvironment, assertSeedMatrix, failureReport, labPrefix } from './helpers.js';

export const HOSTS = ['h1', 'h2'];
export const PLACE: Record<string, string> = { ns1: 'h1', ns2: 'h2', ns3: 'h2', ns4: 'h1', ns5: 'h1', ns6: 'h2' };

export type Step = 'api' | 'agents' | 'vms' | 'bridges';

/** The cluster under test, for after() to remove if a test fails half way. */
export const state: { current: Cluster | undefined } = { current: undefined };

export async function addBridges(c: Cluster): Promise<void> {
  for (const h of HOSTS)
    await c.lab.host(h).vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
}

export async function addVms(c: Cluster): Promise<void> {
  for (const [vm, host] of Object.entries(PLACE)) await addSeedVm(c, vm, host);
}

export async function build(tag: string, order: Step[], opts: { noBridges?: boolean } = {}): Promise<Cluster> {
  assertE2eEnvironment();
  const bridgesLate = opts.noBridges === true || order.includes('bridges');
  const c = await Cluster.start({
    prefix: labPrefix(tag),
    hosts: HOSTS,
    startAgents: false,
    labCreatesBridge: !bridgesLate,
    // The user creates br0 (add-br): the agent must wait for it, not create it.
    agentCreatesBridge: false,
  });
  state.current = c;
  for (const step of order) {
    if (step === 'agents') for (const h of HOSTS) await c.startAgent(h);
    if (step === 'bridges') await addBridges(c);
    if (step === 'vms') await addVms(c);
    // The agents register their datapaths; relations to them are optional and left out, so the
    // API calls need not wait for any agent.
    if (step === 'api') await c.apply(seedApiCalls([]));
  }
  return c;
}

export async function check(c: Cluster): Promise<void> {
  try {
    await c.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(c)}`);
  }
  await assertSeedMatrix(c);
  await c.down();
  state.current = undefined;
}
