// The generated flows on a real ovs-vswitchd (dummy datapath): OVS accepts every flow, and ofproto/trace follows
// packets through them the way the simulator says.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatFlow } from '../../../src/agent/pipeline/format.js';
import { dhcpNetworkMeter, meterSpec, metersOf } from '../../../src/agent/pipeline/meters.js';
import type { Flow } from '../../../src/openflow/types.js';
import { type OvsInstance, startOvs } from '../../../src/lab/ovs-instance.js';
import { Fabric } from './fabric.js';
import { DP1, DP2, GRE_PORT, ROUTER, seedResources, seedVms, VXLAN_PORT } from './fixtures.js';

const place: Record<number, string> = { 1: DP1, 2: DP1, 3: DP2, 4: DP1, 5: DP1, 6: DP2 };
const vms = seedVms((n) => place[n]!);
// veth2 is in a security group (tcp/80 from anywhere, tcp/5432 from the group itself); veth4 has a filter.
const resources = seedResources(vms);
resources.security_groups = [
  {
    uuid: 'sg-web',
    rules: [
      { uuid: 'sgr-80', direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
      { uuid: 'sgr-pg', direction: 'ingress', protocol: 'tcp', port_range_min: 5432, remote_group_uuid: 'sg-web' },
    ],
  },
];
resources.interfaces!.find((i) => i.uuid === 'if-veth2')!.security_group_uuids = ['sg-web'];
resources.interfaces!.find((i) => i.uuid === 'if-veth1')!.security_group_uuids = ['sg-web'];
// veth5 may only open tcp/443 to 10.0.0.0/8 and udp/53 anywhere (egress rules as conjunctions).
resources.security_groups.push({
  uuid: 'sg-out',
  rules: [
    { uuid: 'sgr-o1', direction: 'egress', protocol: 'tcp', port_range_min: 443, remote_ip_prefix: '10.0.0.0/8' },
    { uuid: 'sgr-o2', direction: 'egress', protocol: 'udp', port_range_min: 53, port_range_max: 53 },
  ],
});
resources.interfaces!.find((i) => i.uuid === 'if-veth5')!.security_group_uuids = ['sg-out'];
resources.filters = [
  {
    uuid: 'fil-4',
    interface_uuid: 'if-veth4',
    ingress_passthrough: false,
    egress_passthrough: false,
    // veth4's own connections to port 443 (OpenVNet writes a static as traffic arriving: src_port is the far end's).
    statics: [{ protocol: 'tcp', action: 'conn', src_address: '0.0.0.0/0', dst_address: '0.0.0.0/0', src_port: 443 }],
  },
];
const fab = new Fabric(seedResources(vms), vms, [DP1, DP2]);
const flows = fab.flows.get(DP1)!;
const secureFlows = new Fabric(resources, vms, [DP1, DP2]).flows.get(DP1)!;
const MAC = (n: number) => `02:00:00:00:00:0${n}`;

let ovs: OvsInstance;
const dir = `/tmp/vnet-pipeline-ovs-${process.pid}`;
const br = 'brpipe';
/** Same VMs with a security group and a filter (port names prefixed: OVSDB interface names are global). */
const brSec = 'brsec';
const odp = new Map<number, number>();

/** Adds every meter the flows name, as the agent does before its flows. */
async function addMeters(bridge: string, fl: readonly Flow[]): Promise<void> {
  const ids = new Set<number>();
  for (const f of fl) metersOf(f, ids);
  for (const id of ids) {
    const m = meterSpec(id)!;
    await ovs.ofctl(
      '-O',
      'OpenFlow13',
      'add-meter',
      bridge,
      `meter=${m.id},pktps,burst,band=type=drop,rate=${m.ratePps},burst_size=${m.burst}`,
    );
  }
}

async function trace(flow: string): Promise<string> {
  return ovs.appctl('ofproto/trace', br, flow);
}

/**
 * ofproto/trace on the secure bridge, following both ct() recirculations (egress, then ingress) with the
 * conntrack state `ct` (ovs-appctl's --ct-next, e.g. "trk,new" or "trk,est,rpl").
 */
async function traceSecure(flow: string, ct: string): Promise<string> {
  return ovs.appctl('ofproto/trace', brSec, flow, '--ct-next', ct, '--ct-next', ct);
}

function datapathActions(t: string): string {
  const m = /Datapath actions: (.*)/.exec(t);
  return m ? m[1]! : '';
}

describe('generated flows on real OVS', { timeout: 60_000 }, () => {
  before(async () => {
    ovs = await startOvs({ dir, dummy: true });
    await ovs.vsctl(
      'add-br',
      br,
      '--',
      'set',
      'bridge',
      br,
      'datapath_type=dummy',
      'fail_mode=secure',
      'protocols=OpenFlow13',
    );
    for (const v of vms.filter((x) => x.dp === DP1)) {
      const n = fab.port(v.uuid);
      await ovs.vsctl('add-port', br, v.uuid, '--', 'set', 'interface', v.uuid, 'type=dummy', `ofport_request=${n}`);
    }
    await ovs.vsctl(
      'add-port',
      br,
      't-gre',
      '--',
      'set',
      'interface',
      't-gre',
      'type=gre',
      'options:remote_ip=flow',
      'options:key=flow',
      `ofport_request=${GRE_PORT}`,
    );
    await ovs.vsctl(
      'add-port',
      br,
      't-vxlan',
      '--',
      'set',
      'interface',
      't-vxlan',
      'type=vxlan',
      'options:remote_ip=flow',
      'options:key=flow',
      `ofport_request=${VXLAN_PORT}`,
    );
    await addMeters(br, flows);
    const file = join(dir, 'flows.txt');
    writeFileSync(file, `${flows.map((f) => formatFlow(f)).join('\n')}\n`);
    await ovs.ofctl('-O', 'OpenFlow13', 'add-flows', br, file);
    await ovs.vsctl(
      'add-br',
      brSec,
      '--',
      'set',
      'bridge',
      brSec,
      'datapath_type=dummy',
      'fail_mode=secure',
      'protocols=OpenFlow13',
    );
    for (const v of vms.filter((x) => x.dp === DP1)) {
      const name = `s${fab.port(v.uuid)}-${process.pid}`.slice(0, 15);
      await ovs.vsctl(
        'add-port',
        brSec,
        name,
        '--',
        'set',
        'interface',
        name,
        'type=dummy',
        `ofport_request=${fab.port(v.uuid)}`,
      );
    }
    await addMeters(brSec, secureFlows);
    const secFile = join(dir, 'flows-secure.txt');
    writeFileSync(secFile, `${secureFlows.map((f) => formatFlow(f)).join('\n')}\n`);
    await ovs.ofctl('-O', 'OpenFlow13', 'add-flows', brSec, secFile);
    // ofport → datapath port number, to read "Datapath actions".
    const show = await ovs.appctl('dpif/show');
    let section = '';
    for (const line of show.split('\n')) {
      const b = /^\s+(\S+):$/.exec(line);
      if (b) section = b[1]!;
      const m = /^\s+(\S+) (\d+)\/(\d+):/.exec(line);
      if (m && section === br) odp.set(Number(m[2]), Number(m[3]));
    }
  });

  after(async () => {
    await ovs?.stop();
  });

  async function dump(): Promise<string> {
    return ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', br);
  }

  test('OVS holds exactly the flows we generated (plain and with security)', async () => {
    const lines = (await dump()).split('\n').filter((l) => l.includes('priority'));
    assert.equal(lines.length, flows.length, await dump());
    const sec = (await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', brSec))
      .split('\n')
      .filter((l) => l.includes('priority'));
    assert.equal(sec.length, secureFlows.length);
    assert.ok(secureFlows.length > flows.length);
  });

  async function expectActions(pkt: string, re: RegExp): Promise<void> {
    const t = await trace(pkt);
    assert.match(datapathActions(t), re, `${pkt}\n${t}\n${await dump()}`);
  }

  test('ARP for a VM address is answered out of the in_port', async () => {
    await expectActions(
      `in_port=1,arp,dl_src=${MAC(1)},dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_sha=${MAC(1)},arp_spa=172.16.1.1,arp_tpa=172.16.1.2`,
      new RegExp(`arp\\(sip=172.16.1.2,tip=172.16.1.1,op=2,sha=${MAC(2)},tha=${MAC(1)}\\).*\\b${odp.get(1)}$`),
    );
  });

  test('unicast to a local VM goes to its port; to a remote VM into the GRE tunnel with the network key', async () => {
    await expectActions(
      `in_port=1,icmp,dl_src=${MAC(1)},dl_dst=${MAC(2)},nw_src=172.16.1.1,nw_dst=172.16.1.2`,
      new RegExp(`^${odp.get(2)}$`),
    );
    const t = await trace(`in_port=4,icmp,dl_src=${MAC(4)},dl_dst=${MAC(3)},nw_src=172.16.2.4,nw_dst=172.16.2.3`);
    // The dummy datapath has no underlay route, so the tunnel push itself is not in the datapath actions; the
    // OpenFlow part of the trace shows the packet reaching the tunnel output with the key set.
    assert.match(t, /set_field:0x66->tun_id/, t);
    assert.match(t, /set_field:10\.200\.0\.2->tun_dst/, t);
    assert.match(t, new RegExp(`output:${GRE_PORT}`), t);
  });

  test('routing rewrites MACs and TTL and delivers locally', async () => {
    await expectActions(
      `in_port=4,icmp,dl_src=${MAC(4)},dl_dst=${ROUTER.net2.mac},nw_src=172.16.2.4,nw_dst=172.16.1.2,nw_ttl=64`,
      new RegExp(`eth\\(src=${ROUTER.net1.mac},dst=${MAC(2)}\\).*ttl=63.*\\b${odp.get(2)}$`),
    );
  });

  test('ICMP echo to the far router address is answered in the switch', async () => {
    await expectActions(
      `in_port=1,icmp,icmp_type=8,dl_src=${MAC(1)},dl_dst=${ROUTER.net1.mac},nw_src=172.16.1.1,nw_dst=${ROUTER.net2.ip}`,
      new RegExp(`src=${ROUTER.net2.ip.replace(/\./g, '\\.')},dst=172\\.16\\.1\\.1.*icmp\\(type=0.*\\b${odp.get(1)}$`),
    );
  });

  test('spoofed IP, IPv6 and net3→net1 are dropped', async () => {
    await expectActions(
      `in_port=1,icmp,dl_src=${MAC(1)},dl_dst=${MAC(2)},nw_src=172.16.1.9,nw_dst=172.16.1.2`,
      /^drop$/,
    );
    await expectActions(`in_port=1,ipv6,dl_src=${MAC(1)},dl_dst=${MAC(2)}`, /^drop$/);
    await expectActions(
      `in_port=5,icmp,dl_src=${MAC(5)},dl_dst=${MAC(2)},nw_src=172.16.1.1,nw_dst=172.16.1.2`,
      /^drop$/,
    );
  });

  test('security group: tcp/80 passes conntrack and the conjunction; tcp/22 is dropped', async () => {
    const base = `in_port=1,tcp,dl_src=${MAC(1)},dl_dst=${MAC(2)},nw_src=172.16.1.1,nw_dst=172.16.1.2,tcp_src=40000`;
    // ofproto/trace follows ct() recirculation, with ct_state from --ct-next.
    const ok = await traceSecure(`${base},tcp_dst=80`, 'trk,new');
    assert.match(ok, /conj_id=\d+/, ok);
    assert.match(ok, new RegExp(`output:${2}`), ok);
    const no = await traceSecure(`${base},tcp_dst=22`, 'trk,new');
    assert.doesNotMatch(no, /output:2\b/, no);
    // A reply of a live connection passes without a rule (ct_mark 0: not blocked).
    const reply = await traceSecure(`${base},tcp_dst=22`, 'trk,est,rpl');
    assert.match(reply, /output:2\b/, reply);
    // The request direction of an established connection meets the rules again: tcp/22 has none any more, so
    // the connection is marked blocked (ct_mark bit 1, ingress) and dropped; tcp/80 still passes.
    const est = await traceSecure(`${base},tcp_dst=22`, 'trk,est');
    assert.doesNotMatch(est, /output:2\b/, est);
    assert.match(est, /ct\(commit,zone=NXM_NX_REG5\[0\.\.15\],exec\(load:0x1->NXM_NX_CT_MARK\[1\]\)\)/, est);
    const est80 = await traceSecure(`${base},tcp_dst=80`, 'trk,est');
    assert.match(est80, /output:2\b/, est80);
  });

  test("filter: conn commits the filtered VM's own tcp/443 connection and admits nothing inbound", async () => {
    const out = await traceSecure(
      `in_port=4,tcp,dl_src=${MAC(4)},dl_dst=${MAC(3)},nw_src=172.16.2.4,nw_dst=172.16.2.3,tcp_src=40000,tcp_dst=443`,
      'trk,new',
    );
    assert.match(out, /ct\(commit/, out);
    assert.notEqual(datapathActions(out), 'drop', out);
    const inbound = await traceSecure(
      `in_port=1,tcp,dl_src=${MAC(1)},dl_dst=${ROUTER.net1.mac},nw_src=172.16.1.1,nw_dst=172.16.2.4,tcp_src=40000,tcp_dst=443,nw_ttl=64`,
      'trk,new',
    );
    assert.doesNotMatch(inbound, /output:4\b/, inbound);
  });

  /** tx packet count of a port of the secure bridge. */
  async function txPackets(port: number): Promise<number> {
    const out = await ovs.ofctl('-O', 'OpenFlow13', 'dump-ports', brSec, String(port));
    const m = /tx pkts=(\d+)/.exec(out);
    if (!m) throw new Error(`no tx counter in ${out}`);
    return Number(m[1]);
  }

  /** Inject a real TCP packet into the secure bridge's port for VM `from` (userspace conntrack runs for real). */
  async function inject(from: number, to: number, sport: number, dport: number, flags: string): Promise<void> {
    const ip = (n: number) => (n <= 2 ? `172.16.1.${n}` : `172.16.2.${n}`);
    await ovs.appctl(
      'netdev-dummy/receive',
      `s${from}-${process.pid}`.slice(0, 15),
      `eth(src=${MAC(from)},dst=${MAC(to)}),eth_type(0x0800),ipv4(src=${ip(from)},dst=${ip(to)},proto=6,tos=0,ttl=64,frag=no),tcp(src=${sport},dst=${dport}),tcp_flags(${flags})`,
    );
  }

  test('real packets through conntrack: rules hold between two filtered VMs on one host, replies pass', async () => {
    const settle = () => new Promise((r) => setTimeout(r, 200));
    const to2 = await txPackets(2);
    const to1 = await txPackets(1);
    // veth1 → veth2 tcp/22: veth1's egress commits it, but veth2's ingress still sees +new and has no rule.
    await inject(1, 2, 41000, 22, 'syn');
    await settle();
    assert.equal(await txPackets(2), to2, await ovs.ofctl('-O', 'OpenFlow13', 'dump-flows', brSec));
    // tcp/80 is allowed; the SYN-ACK comes back to veth1 as an established reply.
    await inject(1, 2, 41001, 80, 'syn');
    await settle();
    assert.equal(await txPackets(2), to2 + 1);
    await inject(2, 1, 80, 41001, 'syn|ack');
    await settle();
    assert.equal(await txPackets(1), to1 + 1);
    // veth2 opening tcp/5555 to veth1: allowed out, refused in (veth1's group has no such rule).
    await inject(2, 1, 42000, 5555, 'syn');
    await settle();
    assert.equal(await txPackets(1), to1 + 1);
    const ct = await ovs.appctl('dpctl/dump-conntrack');
    assert.match(ct, /dport=80.*zone=11/, ct);
  });

  test('real packets: removing the rule stops an established connection both ways; restoring it revives it', async () => {
    // UDP: userspace conntrack checks TCP sequence numbers, which packets injected from a flow description lack.
    const settle = () => new Promise((r) => setTimeout(r, 200));
    const udp = (from: number, to: number, sport: number, dport: number) =>
      ovs.appctl(
        'netdev-dummy/receive',
        `s${from}-${process.pid}`.slice(0, 15),
        `eth(src=${MAC(from)},dst=${MAC(to)}),eth_type(0x0800),ipv4(src=172.16.1.${from},dst=172.16.1.${to},proto=17,tos=0,ttl=64,frag=no),udp(src=${sport},dst=${dport})`,
      );
    const entry = async () =>
      (await ovs.appctl('dpctl/dump-conntrack')).split('\n').find((l) => /sport=41500,dport=6000\b/.test(l)) ?? '';
    const replace = async (res: typeof resources, name: string) => {
      const file = join(dir, name);
      const fl = new Fabric(res, vms, [DP1, DP2]).flows.get(DP1)!;
      writeFileSync(file, `${fl.map((f) => formatFlow(f)).join('\n')}\n`);
      await ovs.ofctl('-O', 'OpenFlow13', '--bundle', 'replace-flows', brSec, file);
    };
    // sg-web gains udp/6000 for this test.
    const withUdp = structuredClone(resources);
    withUdp.security_groups![0]!.rules!.push({
      uuid: 'sgr-udp',
      direction: 'ingress',
      protocol: 'udp',
      port_range_min: 6000,
    });
    const withoutUdp = structuredClone(resources);
    try {
      await replace(withUdp, 'flows-udp.txt');
      const to2 = await txPackets(2);
      const to1 = await txPackets(1);
      // veth1 → veth2 udp/6000, the answer, and one more each way: established.
      for (const _ of [1, 2]) {
        await udp(1, 2, 41500, 6000);
        await udp(2, 1, 6000, 41500);
      }
      await settle();
      assert.equal(await txPackets(2), to2 + 2, await entry());
      assert.equal(await txPackets(1), to1 + 2, await entry());
      // The rule goes away: the switch keeps its conntrack entries, only the flows change.
      await replace(withoutUdp, 'flows-no-udp.txt');
      await udp(1, 2, 41500, 6000);
      await udp(2, 1, 6000, 41500);
      await settle();
      assert.equal(await txPackets(2), to2 + 2, 'request direction still delivered');
      assert.equal(await txPackets(1), to1 + 2, 'reply direction still delivered');
      assert.match(await entry(), /mark=2\b/, await entry());
      // The rule is back: the same connection passes again, unblocked.
      await replace(withUdp, 'flows-udp.txt');
      await udp(1, 2, 41500, 6000);
      await udp(2, 1, 6000, 41500);
      await settle();
      assert.equal(await txPackets(2), to2 + 3);
      assert.equal(await txPackets(1), to1 + 3);
      assert.doesNotMatch(await entry(), /mark=[1-9]/, await entry());
    } finally {
      await replace(resources, 'flows-secure.txt');
    }
  });

  test("DHCP goes to the controller through its port's meter and its network's", async () => {
    const t = await trace(
      `in_port=1,udp,dl_src=${MAC(1)},dl_dst=ff:ff:ff:ff:ff:ff,nw_src=0.0.0.0,nw_dst=255.255.255.255,udp_src=68,udp_dst=67`,
    );
    assert.match(t, /meter:65537/, t);
    // net1 (tunnel key 101): its network's meter, which real OVS accepts (ids up to its max_meters).
    assert.match(t, new RegExp(`meter:${dhcpNetworkMeter(101).id}\\b`), t);
    assert.match(datapathActions(t), /userspace/, t);
  });
});
