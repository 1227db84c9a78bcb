// Issue 17 item 6: VLAN trunk ports for VMs, seed 000's layout, through the real API, agents and OVS. A router VM
// on h1 has one port (its trunk, if-trunk) carrying sub-interfaces tagged 10 and 20 (if-r10, if-r20: networks
// nw-v10 and nw-v20) and, untagged, its own address on a flat physical network whose upstream gateway (x0) is on
// the lab's provider segment. VMs of VLAN 10 and 20 on h2 reach each other only through the router VM
// (ip_forward on), and the upstream gateway through it too (its default route).
//
// The stand-in for the VM's 802.1Q driver: this kernel has no Linux VLAN devices (`ip link add … type vlan` →
// Unknown device type), so the router VM cannot have eth2.10. Its port's veth ends, VM side, in a small OVS bridge
// of the lab's (`rvm`, on the provider segment's OVS instance, standalone NORMAL switching) as a trunk; veth
// access ports of that bridge (tag 10, tag 20, and VLAN 1 untagged on the trunk) have their other ends in the
// router VM's namespace as `eth2.10`, `eth2.20` and `eth2`. Real tagged frames cross vnet's port (tcpdump on
// the trunk shows them).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { runIn } from '../../src/lab/exec.js';
import { addInterfaceVm, assertE2eEnvironment, labPrefix } from './helpers.js';

const HOSTS = ['h1', 'h2'];
const NETS = [
  { uuid: 'nw-v10', ipv4_network: '10.10.0.0', ipv4_prefix: 24 },
  { uuid: 'nw-v20', ipv4_network: '10.20.0.0', ipv4_prefix: 24 },
  { uuid: 'nw-up', ipv4_network: '192.168.0.0', ipv4_prefix: 24, network_mode: 'physical' },
];
const TRUNK = { uuid: 'if-trunk', mac: '02:00:00:0f:00:01', ip: '192.168.0.1', network: 'nw-up' };
const SUBS = [
  { uuid: 'if-r10', vlan: 10, mac: '02:00:00:0f:10:01', ip: '10.10.0.1', network: 'nw-v10', dev: 'eth2.10' },
  { uuid: 'if-r20', vlan: 20, mac: '02:00:00:0f:20:01', ip: '10.20.0.1', network: 'nw-v20', dev: 'eth2.20' },
];
const VMS = [
  { name: 'a', uuid: 'if-a', network: 'nw-v10', ip: '10.10.0.8', mac: '02:00:00:10:00:08', gateway: '10.10.0.1' },
  { name: 'b', uuid: 'if-b', network: 'nw-v20', ip: '10.20.0.9', mac: '02:00:00:20:00:09', gateway: '10.20.0.1' },
];
const UPSTREAM = '192.168.0.100';

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('trk'), hosts: HOSTS });
  const dpOf = new Map<string, string>();
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  const lab = cluster.lab;
  await lab.addUplink('h1');
  await lab.addExternal({ name: 'x0', ip: `${UPSTREAM}/24` });
  // The upstream gateway routes the VLAN networks back through the router VM.
  await lab.run('x0', ['ip', 'route', 'add', '10.0.0.0/8', 'via', TRUNK.ip]);

  for (const n of NETS) await cluster.call('POST', '/networks', n);
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-uph1',
    mode: 'host',
    port_name: 'ext0',
    owner_datapath_uuid: dpOf.get('h1')!,
  });
  await cluster.call('POST', `/datapaths/${dpOf.get('h1')}/networks/nw-up`, { interface_uuid: 'if-uph1' });
  // The router VM: it routes (enable_routing: its IPv4 is held to its MACs, not its own addresses).
  await cluster.call('POST', '/interfaces', {
    uuid: TRUNK.uuid,
    network_uuid: TRUNK.network,
    ipv4_address: TRUNK.ip,
    mac_address: TRUNK.mac,
    enable_routing: true,
  });
  for (const s of SUBS)
    await cluster.call('POST', '/interfaces', {
      uuid: s.uuid,
      parent_interface_uuid: TRUNK.uuid,
      vlan_tag: s.vlan,
      network_uuid: s.network,
      ipv4_address: s.ip,
      mac_address: s.mac,
      enable_routing: true,
    });
  for (const v of VMS) await addInterfaceVm(cluster, { ...v, host: 'h2' });
  await routerVm();
});

after(async () => {
  await cluster?.down();
});

/**
 * The router VM (netns `<prefix>-rvm`, its port if-trunk on h1) with the stand-in 802.1Q driver described above:
 * its veth's VM end becomes the trunk of bridge `rvm` in the segment's OVS; eth2, eth2.10, eth2.20 are veths
 * from that bridge's access ports.
 */
async function routerVm(): Promise<void> {
  const lab = cluster.lab;
  const vm = await lab.addVm({ name: 'rvm', host: 'h1', mac: TRUNK.mac, port: TRUNK.uuid });
  const segNs = lab.segmentNetns;
  const ovs = lab.segmentOvs();
  await ovs.vsctl(
    '--may-exist',
    'add-br',
    'rvm',
    '--',
    'set',
    'bridge',
    'rvm',
    'datapath_type=netdev',
    'fail_mode=standalone',
    'other_config:disable-in-band=true',
  );
  // The VM's own end of its port goes to the bridge as the trunk: tagged VLANs, untagged = VLAN 1.
  await runIn(undefined, ['ip', '-n', vm.netns, 'link', 'set', 'eth0', 'netns', segNs]);
  await runIn(undefined, ['ip', '-n', segNs, 'link', 'set', 'eth0', 'name', 'rvm-trunk']);
  await bridgePort('rvm-trunk', ['vlan_mode=native-untagged', 'tag=1']);
  const devs = [
    { dev: 'eth2', tag: 1, mac: TRUNK.mac, ip: TRUNK.ip },
    ...SUBS.map((s) => ({ dev: s.dev, tag: s.vlan, mac: s.mac, ip: s.ip })),
  ];
  for (const d of devs) {
    const port = `rvm-v${d.tag}`;
    await runIn(undefined, [
      'ip',
      '-n',
      segNs,
      'link',
      'add',
      port,
      'type',
      'veth',
      'peer',
      'name',
      d.dev,
      'netns',
      vm.netns,
    ]);
    await bridgePort(port, ['vlan_mode=access', `tag=${d.tag}`]);
    await runIn(vm.netns, ['ethtool', '-K', d.dev, 'tx', 'off']);
    await runIn(vm.netns, ['ip', 'link', 'set', d.dev, 'address', d.mac]);
    await runIn(vm.netns, ['ip', 'addr', 'add', `${d.ip}/24`, 'dev', d.dev]);
    await runIn(vm.netns, ['ip', 'link', 'set', d.dev, 'up']);
  }
  await runIn(vm.netns, ['ip', 'route', 'replace', 'default', 'via', UPSTREAM]);
  await runIn(vm.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);

  async function bridgePort(port: string, vlan: string[]): Promise<void> {
    await runIn(segNs, ['ethtool', '-K', port, 'tx', 'off']);
    await runIn(undefined, ['ip', '-n', segNs, 'link', 'set', port, 'up']);
    await ovs.vsctl('--may-exist', 'add-port', 'rvm', port, '--', 'set', 'port', port, ...vlan);
  }
}

/** A failed ping's report: flows, agent logs, and ofproto/trace of the frame on the trunk. */
async function report(what: string, output: string): Promise<string> {
  const lab = cluster.lab;
  const trace = await lab
    .trace(
      'h1',
      `in_port=${TRUNK.uuid},dl_vlan=10,dl_src=${SUBS[0]!.mac},dl_dst=${VMS[0]!.mac},icmp,nw_src=${SUBS[0]!.ip},nw_dst=${VMS[0]!.ip}`,
    )
    .catch((e: unknown) => String(e));
  return `${what}\n${output}\nofproto/trace (tag 10 from the trunk):\n${trace}\n${await cluster.diagnostics()}`;
}

async function reaches(from: string, ip: string): Promise<void> {
  const r = await cluster.lab.waitPing(from, ip, { timeoutMs: 20_000 });
  if (!r.ok) assert.fail(await report(`${from} -> ${ip} got no reply`, r.output));
}

test('the agents converge: the sub-interfaces are bound on the trunk port, reported up', async () => {
  try {
    await cluster.waitInSync(30_000);
  } catch (err) {
    assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
  }
  for (const s of SUBS) {
    const i = await cluster.call<{ status: string; active_port_name: string }>('GET', `/interfaces/${s.uuid}`);
    assert.equal(i.status, 'up', `${s.uuid} not bound\n${await cluster.diagnostics()}`);
    assert.equal(i.active_port_name, TRUNK.uuid);
  }
});

test('each VLAN reaches its sub-interface of the router VM, tagged on the trunk', async () => {
  await reaches('a', '10.10.0.1');
  await reaches('b', '10.20.0.1');
  const lab = cluster.lab;
  const cap = await lab.capture('ext', 'rvm-trunk', 'vlan and icmp', () =>
    lab.ping('a', '10.10.0.1', { count: 3, intervalS: 0.1 }),
  );
  assert.equal(cap.result.received, 3, cap.result.output);
  assert.ok(cap.count >= 6, `expected the pings tagged on the trunk:\n${cap.lines.join('\n')}`);
  for (const l of cap.lines) assert.match(l, /vlan 10,/, `not tagged 10 on the trunk: ${l}`);
});

test('VLAN 10 and VLAN 20 reach each other only through the router VM', async () => {
  await reaches('a', '10.20.0.9');
  await reaches('b', '10.10.0.8');
  const lab = cluster.lab;
  const cap = await lab.capture('ext', 'rvm-trunk', 'vlan and icmp', () =>
    lab.ping('a', '10.20.0.9', { count: 2, intervalS: 0.2 }),
  );
  assert.equal(cap.result.received, 2, cap.result.output);
  const text = cap.lines.join('\n');
  assert.match(text, /vlan 10,.*10\.10\.0\.8 > 10\.20\.0\.9/, `request not in on VLAN 10:\n${text}`);
  assert.match(text, /vlan 20,.*10\.10\.0\.8 > 10\.20\.0\.9/, `request not out on VLAN 20:\n${text}`);
  // Without the router VM forwarding, nothing gets across.
  const rvm = lab.vm('rvm');
  await runIn(rvm.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
  try {
    const r = await lab.ping('a', '10.20.0.9', { count: 2, intervalS: 0.2, timeoutS: 1 });
    assert.equal(r.received, 0, `VLAN 10 reached VLAN 20 without the router VM\n${r.output}`);
  } finally {
    await runIn(rvm.netns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }
  await reaches('a', '10.20.0.9');
});

test("the router VM's default route: VLAN VMs reach the upstream gateway untagged on the trunk", async () => {
  await reaches('rvm', UPSTREAM);
  await reaches('a', UPSTREAM);
  await reaches('b', UPSTREAM);
});

test('a frame with a tag no sub-interface has is dropped', async () => {
  const lab = cluster.lab;
  const rvm = lab.vm('rvm');
  // VLAN 30 on the router VM's side of the trunk: its frames reach vnet's port tagged 30, and nothing answers.
  await runIn(undefined, [
    'ip',
    '-n',
    lab.segmentNetns,
    'link',
    'add',
    'rvm-v30',
    'type',
    'veth',
    'peer',
    'name',
    'eth2.30',
    'netns',
    rvm.netns,
  ]);
  await runIn(lab.segmentNetns, ['ethtool', '-K', 'rvm-v30', 'tx', 'off']);
  await runIn(undefined, ['ip', '-n', lab.segmentNetns, 'link', 'set', 'rvm-v30', 'up']);
  await lab.segmentOvs().vsctl('--may-exist', 'add-port', 'rvm', 'rvm-v30', '--', 'set', 'port', 'rvm-v30', 'tag=30');
  await runIn(rvm.netns, ['ip', 'link', 'set', 'eth2.30', 'address', SUBS[0]!.mac]);
  await runIn(rvm.netns, ['ip', 'addr', 'add', '10.10.0.50/24', 'dev', 'eth2.30']);
  await runIn(rvm.netns, ['ip', 'link', 'set', 'eth2.30', 'up']);
  // Seen tagged 30 on the trunk, and nothing of it reaches the VLAN-10 VM (nor answers).
  const seen = await lab.capture('a', 'eth0', 'host 10.10.0.50', () =>
    lab.capture('ext', 'rvm-trunk', 'vlan 30', () =>
      lab.exec('rvm', ['ping', '-I', 'eth2.30', '-c', '3', '-i', '0.2', '-W', '1', '10.10.0.8']),
    ),
  );
  const trunk = seen.result;
  assert.ok(trunk.count > 0, 'the VLAN-30 frames did not reach the trunk');
  assert.equal(seen.count, 0, `a frame tagged 30 reached VLAN 10:\n${seen.lines.join('\n')}`);
  assert.equal(trunk.result.ok, false, `VLAN 30 was answered:\n${trunk.result.stdout}`);
});
