// Issue 6 "Done when" 2, shared by the GRE and VXLAN files: the seed networks over 3 hosts, every
// network's VMs on different hosts, the same matrix, and the encapsulation seen on the underlay.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import {
  addSeedVm,
  assertE2eEnvironment,
  assertReaches,
  assertSeedMatrix,
  failureReport,
  labPrefix,
} from './helpers.js';

/** ns1/ns2, ns3/ns4 and ns5/ns6 each sit on two different hosts of three. */
export const SPREAD: Record<string, string> = { ns1: 'h1', ns2: 'h2', ns3: 'h3', ns4: 'h1', ns5: 'h2', ns6: 'h3' };

const FILTER = { gre: 'ip proto 47', vxlan: 'udp port 4789' } as const;

export function multiHostSuite(encap: 'gre' | 'vxlan'): void {
  let cluster: Cluster;

  before(async () => {
    assertE2eEnvironment();
    cluster = await Cluster.start({ prefix: labPrefix(`e${encap.slice(0, 2)}`), hosts: ['h1', 'h2', 'h3'], encap });
    const dps = await cluster.waitDatapaths();
    await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
    for (const [vm, host] of Object.entries(SPREAD)) await addSeedVm(cluster, vm, host);
  });

  after(async () => {
    await cluster?.down();
  });

  test(`three agents (${encap}) converge and report their tunnel endpoints`, async () => {
    try {
      await cluster.waitInSync(20_000);
    } catch (err) {
      assert.fail(`${String(err)}\n${await failureReport(cluster)}`);
    }
    const dps = await cluster.datapaths();
    for (const h of ['h1', 'h2', 'h3']) {
      const dp = dps.find((d) => d.node_id === h);
      assert.ok(dp, `no datapath for ${h}`);
      assert.equal(dp.ipv4_address, cluster.lab.host(h).underlayIp);
      assert.equal(dp.last_error, null, `${h}: ${dp.last_error}`);
    }
  });

  test(`the seed matrix holds across hosts (${encap})`, async () => {
    await assertSeedMatrix(cluster);
  });

  test(`cross-host traffic is ${encap} on the underlay, and only ${encap}`, async () => {
    const other = encap === 'gre' ? 'vxlan' : 'gre';
    const lab = cluster.lab;
    await assertReaches(cluster, 'ns1', '172.16.1.2');
    // On ns1's host port of the underlay: a Linux bridge's own device only sees what it floods.
    const ul = `ul-${lab.vm('ns1').host}`;
    const seenOther = await lab.capture('ul', ul, FILTER[other], () =>
      lab.capture('ul', ul, FILTER[encap], () => lab.ping('ns1', '172.16.1.2', { count: 3, intervalS: 0.1 })),
    );
    const seen = seenOther.result;
    assert.equal(seen.result.received, 3, seen.result.output);
    // 3 requests + 3 replies, each crossing the underlay bridge once.
    assert.ok(
      seen.count >= 6,
      `expected ${encap} packets on the underlay, saw ${seen.count}:\n${seen.lines.join('\n')}`,
    );
    assert.equal(seenOther.count, 0, `unexpected ${other} packets:\n${seenOther.lines.join('\n')}`);
  });

  test(`routed traffic crosses hosts once per direction (${encap})`, async () => {
    const lab = cluster.lab;
    await assertReaches(cluster, 'ns1', '172.16.2.3');
    // ns1 (h1) -> ns3 (h3): routed on h1, tunnelled once to h3; the reply is routed on h3.
    const cap = await lab.capture('ul', `ul-${lab.vm('ns1').host}`, FILTER[encap], () =>
      lab.ping('ns1', '172.16.2.3', { count: 4, intervalS: 0.1 }),
    );
    assert.equal(cap.result.received, 4, cap.result.output);
    // 4 requests + 4 replies; a duplicate or a loop would double it (a stray broadcast may add one).
    assert.ok(
      cap.count >= 8 && cap.count < 12,
      `expected 8 tunnelled packets (4 requests, 4 replies), saw ${cap.count}:\n${cap.lines.join('\n')}`,
    );
  });
}
