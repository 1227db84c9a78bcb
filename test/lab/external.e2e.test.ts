// The lab's external side alone (no agent): the VLAN-aware provider segment, host uplinks as trunks, external nodes as access ports.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { leftovers, testPrefix } from './helpers.js';

const P = testPrefix('x');
const P2 = testPrefix('y');
let lab: Lab;

// h1's VM `a` is put in VLAN 10 by hand flows on h1's br0; h2's VM `b` is on the flat network.
before(async () => {
  lab = await Lab.create({ prefix: P, mode: 'none' });
  await Promise.all([lab.addHost({ name: 'h1' }), lab.addHost({ name: 'h2' })]);
  await lab.addVm({ name: 'a', host: 'h1', ip: '203.0.113.21/24', mtu: 1500 });
  await lab.addVm({ name: 'b', host: 'h2', ip: '198.51.100.21/24', mtu: 1500 });
  await Promise.all([lab.addUplink('h1'), lab.addUplink('h2')]);
  await lab.addExternal({ name: 'e10a', ip: '203.0.113.11/24', vlan: 10 });
  await lab.addExternal({ name: 'e10b', ip: '203.0.113.12/24', vlan: 10 });
  await lab.addExternal({ name: 'e20', ip: '203.0.113.13/24', vlan: 20 });
  await lab.addExternal({ name: 'flat', ip: '198.51.100.11/24' });
  const h1 = lab.host('h1');
  await h1.ofctl('add-flow', 'br0', 'in_port=if-a,actions=mod_vlan_vid:10,output:ext0');
  await h1.ofctl('add-flow', 'br0', 'in_port=ext0,dl_vlan=10,actions=strip_vlan,output:if-a');
  const h2 = lab.host('h2');
  await h2.ofctl('add-flow', 'br0', 'in_port=if-b,actions=output:ext0');
  await h2.ofctl('add-flow', 'br0', 'in_port=ext0,vlan_tci=0,actions=output:if-b');
});

after(async () => {
  await lab?.down();
  await cleanupLeftovers(P);
  await cleanupLeftovers(P2);
});

// ICMP tagged or not: a tag may be in the frame (what the switch's userspace datapath writes) or in the
// skb's metadata (what the veth parsed on receive); plain `icmp` matches only the latter.
const ANY_ICMP = 'icmp or (vlan and icmp)';

/** What a failure prints: the segment's VLAN table, learned MACs and links, flows, addresses (lab.diagnostics has them all). */
const report = () => lab.diagnostics();

test('the segment: a VLAN-aware switch; uplinks are trunks (untagged = VLAN 1), external nodes access ports', async () => {
  const seg = lab.segmentOvs();
  const vlanOf = async (port: string) =>
    (await seg.vsctl('get', 'port', port, 'vlan_mode', 'tag', 'trunks')).trim().split('\n').join(' ');
  // trunks [] = every VLAN; native-untagged tag 1 = untagged frames are VLAN 1 and VLAN 1 leaves untagged.
  assert.equal(await vlanOf('up-h1'), 'native-untagged 1 []', await report());
  assert.equal(await vlanOf('up-h2'), 'native-untagged 1 []');
  assert.equal(await vlanOf('ex-e10a'), 'access 10 []');
  assert.equal(await vlanOf('ex-e20'), 'access 20 []');
  assert.equal(await vlanOf('ex-flat'), 'access 1 []');
  assert.equal((await seg.vsctl('get', 'bridge', 'seg', 'fail_mode')).trim(), 'standalone');

  const h1 = lab.host('h1');
  assert.ok((await h1.vsctl('list-ports', 'br0')).split('\n').includes('ext0'));
  assert.match(await h1.run(['ip', '-br', 'link', 'show', 'ext0']), /ext0@\S+\s+UP/);
  assert.match(await h1.run(['ethtool', '-k', 'ext0']), /tx-checksumming: off/);
  assert.match(await lab.run('ext', ['ethtool', '-k', 'up-h1']), /tx-checksumming: off/);
  assert.deepEqual(
    lab.uplinks().map((u) => [u.host, u.port, u.segPort, u.attached]),
    [
      ['h1', 'ext0', 'up-h1', true],
      ['h2', 'ext0', 'up-h2', true],
    ],
  );
  assert.equal(lab.external('e10a').vlan, 10);
  assert.equal(lab.external('flat').vlan, null);
});

test('external nodes in one VLAN reach each other; a node of another VLAN (same subnet) does not', async () => {
  const ok = await lab.waitPing('e10a', '203.0.113.12', { timeoutMs: 5000 });
  assert.ok(ok.ok, `${ok.output}\n${await report()}`);
  const cut = await lab.ping('e10a', '203.0.113.13', { count: 2, intervalS: 0.2, timeoutS: 1 });
  assert.equal(cut.ok, false, `VLAN 20 answered VLAN 10:\n${cut.output}`);
  assert.equal(cut.received, 0);
});

test('tagged VLAN 10 from h1 crosses the trunk tagged and reaches the VLAN-10 node untagged; VLAN 20 stays apart', async () => {
  const trunk = await lab.capture('ext', 'up-h1', ANY_ICMP, () =>
    lab.capture('e10a', 'eth0', ANY_ICMP, () => lab.waitPing('a', '203.0.113.11', { timeoutMs: 10000 })),
  );
  const access = trunk.result;
  const ping = access.result;
  assert.ok(ping.ok, `a -> e10a\n${ping.output}\n${trunk.lines.join('\n')}\n${await report()}`);
  assert.ok(trunk.count >= 2, trunk.lines.join('\n'));
  for (const l of trunk.lines) assert.match(l, /vlan 10,/, `untagged on the trunk: ${l}`);
  assert.ok(access.count >= 2, access.lines.join('\n'));
  for (const l of access.lines) assert.doesNotMatch(l, /vlan/, `tagged at the access port: ${l}`);
  const other = await lab.ping('a', '203.0.113.13', { count: 2, intervalS: 0.2, timeoutS: 1 });
  assert.equal(other.received, 0, `VLAN 20 answered VLAN 10:\n${other.output}`);
});

test('flat: untagged from h2 reaches the flat node untagged; a cut uplink stops it, restoring brings it back', async () => {
  const cap = await lab.capture('ext', 'up-h2', ANY_ICMP, () =>
    lab.waitPing('b', '198.51.100.11', { timeoutMs: 10000 }),
  );
  assert.ok(cap.result.ok, `b -> flat\n${cap.result.output}\n${await report()}`);
  assert.ok(cap.count >= 2, cap.lines.join('\n'));
  for (const l of cap.lines) assert.doesNotMatch(l, /vlan/, `tagged on the flat network: ${l}`);

  await lab.cutUplink('h2');
  assert.match(await lab.host('h2').run(['ip', '-br', 'link', 'show', 'ext0']), /NO-CARRIER/);
  const down = await lab.ping('b', '198.51.100.11', { count: 2, intervalS: 0.2, timeoutS: 1 });
  assert.equal(down.received, 0, `answered over a cut uplink:\n${down.output}`);
  assert.equal(lab.uplinks().find((u) => u.host === 'h2')!.cut, true);
  await lab.restoreUplink('h2');
  const back = await lab.waitPing('b', '198.51.100.11', { timeoutMs: 10000 });
  assert.ok(back.ok, `after restore\n${back.output}\n${await report()}`);
});

test('bad input names the field; names are checked before anything is made', async () => {
  await assert.rejects(lab.addExternal({ name: 'x1', ip: '10.9.0.1/24', vlan: 1 }), /external\.vlan: VLAN 1/);
  await assert.rejects(lab.addExternal({ name: 'x1', ip: '10.9.0.1/24', vlan: 4095 }), /external\.vlan/);
  await assert.rejects(lab.addExternal({ name: 'e10a', ip: '10.9.0.1/24' }), /external\.name: 'e10a' is already/);
  await assert.rejects(lab.addExternal({ name: 'ext', ip: '10.9.0.1/24' }), /reserved/);
  await assert.rejects(lab.addUplink('h1'), /uplink\.host: host h1 already has an uplink/);
  await assert.rejects(lab.addVm({ name: 'c', host: 'h1', port: 'ext0' }), /vm\.port: 'ext0' is the uplink of host h1/);
  assert.equal(leftovers(P).namespaces.includes(`${P}-x1`), false);
});

test('a bridge left to the agent: the uplink waits for attachUplink; removeExternal; a lost state file: Lab.destroy removes it all', async () => {
  const l2 = await Lab.create({ prefix: P2, mode: 'none', createBridge: false });
  const h1 = await l2.addHost({ name: 'h1' });
  assert.equal((await l2.addUplink('h1')).attached, false);
  await h1.vsctl('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev');
  await l2.attachUplink('h1');
  assert.ok((await h1.vsctl('list-ports', 'br0')).split('\n').includes('ext0'));
  await l2.addExternal({ name: 'e1', ip: '192.0.2.1/24', vlan: 7 });
  await l2.addExternal({ name: 'e2', ip: '192.0.2.2/24' });
  await l2.removeExternal('e2');
  assert.deepEqual((await l2.segmentOvs().vsctl('list-ports', 'seg')).trim().split('\n'), ['ex-e1', 'up-h1']);
  assert.deepEqual(leftovers(P2).namespaces.sort(), [`${P2}-e1`, `${P2}-ext`, `${P2}-h1`, `${P2}-ul`]);
  rmSync(`/tmp/${P2}/lab.json`);
  await Lab.destroy(P2);
  assert.deepEqual(leftovers(P2), { namespaces: [], processes: [], dir: false, links: [] });
});

test('down() removes the segment, uplinks and external nodes with everything else', async () => {
  await lab.down();
  assert.deepEqual(leftovers(P), { namespaces: [], processes: [], dir: false, links: [] });
});
