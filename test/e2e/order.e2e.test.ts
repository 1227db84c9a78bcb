// Issue 6 "Done when" 3: the matrix holds whatever the order of API calls, agent start, bridge
// creation and VM ports. Each ordering builds its own two-host lab (VMs of each network on both).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addSeedVm, assertE2eEnvironment, assertSeedMatrix, failureReport, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2'];
const PLACE: Record<string, string> = { ns1: 'h1', ns2: 'h2', ns3: 'h2', ns4: 'h1', ns5: 'h1', ns6: 'h2' };
let current: Cluster | undefined;

after(async () => {
  await current?.down();
});

type Step = 'api' | 'agents' | 'vms' | 'bridges';

async function build(tag: string, order: Step[], opts: { noBridges?: boolean } = {}): Promise<Cluster> {
  assertE2eEnvironment();
  const bridgesLate = opts.noBridges === true || order.includes('bridges');
  const c = await Cluster.start({
    prefix: labPrefix(tag),
    hosts: HOSTS,
    startAgents: false,
    labCreatesBridge: !bridgesLate,
    // The user creates br0 later (add-br): the agent must wait for it, not create it.
    agentCreatesBridge: false,
  });
  current = c;
  for (const step of order) {
    if (step === 'agents') for (const h of HOSTS) await c.startAgent(h);
    if (step === 'bridges')
      for (const h of HOSTS)
        await c.lab.host(h).vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
    if (step === 'vms') for (const [vm, host] of Object.entries(PLACE)) await addSeedVm(c, vm, host);
    if (step === 'api') {
      // The agents register their datapaths; relations to them are optional and left out here,
      // so the API calls need not wait for any agent.
      await c.apply(seedApiCalls([]));
    }
  }
  return c;
}

async function check(c: Cluster): Promise<void> {
  try {
    await c.waitInSync(20_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await failureReport(c)}`);
  }
  await assertSeedMatrix(c);
  await c.down();
  current = undefined;
}

test('VM ports first, then the API calls, then the agents', async () => {
  await check(await build('eoa', ['vms', 'api', 'agents']));
});

test('agents first, then VM ports, then the API calls', async () => {
  await check(await build('eob', ['agents', 'vms', 'api']));
});

test('agents before their bridges exist (they wait), then API calls, then bridges, then VM ports', async () => {
  const c = await build('eoc', ['agents', 'api'], { noBridges: true });
  // The agents notice there is no bridge, and say so.
  for (const h of HOSTS) {
    const deadline = Date.now() + 10_000;
    while (!/waiting for bridge br0 to exist/.test(c.agents.get(h)!.logTail(50)) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(c.agents.get(h)!.logTail(50), /waiting for bridge br0 to exist/);
  }
  await c.lab.host('h1').vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
  await c.lab.host('h2').vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
  for (const [vm, host] of Object.entries(PLACE)) await addSeedVm(c, vm, host);
  // The user's datapath_type is kept.
  assert.equal((await c.lab.host('h1').vsctl('get', 'bridge', 'br0', 'datapath_type')).trim(), 'netdev');
  assert.equal((await c.lab.host('h1').vsctl('get', 'bridge', 'br0', 'fail_mode')).trim(), 'secure');
  await check(c);
});
