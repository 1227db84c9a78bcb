// Physical networks on an uplink, followed packet by packet through the simulated switch: a VLAN network and a flat
// one share the host's uplink port (OpenVNet's host interface + datapath_networks rows); frames leave tagged or
// untagged, come back only to their network's local ports, and are never tunnelled.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeFlows, FlowCompiler } from '../../../src/agent/pipeline/flows.js';
import { buildModelView, type FeedResources } from '../../../src/agent/pipeline/model-view.js';
import { type PacketInput, SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { floatingAnnouncements, statusContext } from '../../../src/agent/pipeline/floating.js';
import { uplinkProblems } from '../../../src/agent/pipeline/uplink.js';
import { BCAST, icmpEcho, macNum, tcp } from './fabric.js';
import { DP1, DP2, DP_IP, GRE_PORT, iface, localFor, VXLAN_PORT } from './fixtures.js';

const UPLINK_PORT = 50;
const P10 = { uuid: 'nw-p10', ipv4_network: '192.168.10.0', ipv4_prefix: 24, tunnel_key: 201, ct_zone: 21 };
const FLAT = { uuid: 'nw-flat', ipv4_network: '192.168.0.0', ipv4_prefix: 24, tunnel_key: 202, ct_zone: 22 };
const VMS = [
  { uuid: 'if-veth1', network: P10.uuid, ip: '192.168.10.1', mac: '02:00:00:00:10:01', dp: DP1 },
  { uuid: 'if-veth2', network: P10.uuid, ip: '192.168.10.2', mac: '02:00:00:00:10:02', dp: DP1 },
  { uuid: 'if-veth3', network: FLAT.uuid, ip: '192.168.0.3', mac: '02:00:00:00:00:03', dp: DP1 },
  { uuid: 'if-veth4', network: P10.uuid, ip: '192.168.10.4', mac: '02:00:00:00:10:04', dp: DP2 },
];
const OUTSIDE_MAC = '02:ee:00:00:00:01';

function resources(opts: { rows?: boolean; uplinkNetwork?: string | null } = {}): FeedResources {
  const interfaces = VMS.map((v) => iface(v.uuid, 'vif', v.network, v.mac, v.ip, { active_datapath_uuid: v.dp }));
  interfaces.push(
    iface('if-eth1', 'host', opts.uplinkNetwork ?? (null as unknown as string), '02:00:00:00:ee:01', null, {
      owner_datapath_uuid: DP1,
      port_name: 'eth1',
      network_uuid: opts.uplinkNetwork ?? null,
      mac_leases: [],
    }),
  );
  const row = (nw: string) => ({
    uuid: `${DP1}/${nw}`,
    datapath_uuid: DP1,
    network_uuid: nw,
    interface_uuid: 'if-eth1',
    mac_address: null,
  });
  return {
    datapaths: [DP1, DP2].map((uuid, k) => ({
      uuid,
      dpid: `0x000000000000000${k + 1}`,
      node_id: `host${k + 1}`,
      ipv4_address: DP_IP[uuid]!,
    })),
    networks: [
      { ...P10, network_mode: 'physical', vlan_id: 10 },
      { ...FLAT, network_mode: 'physical', vlan_id: null },
    ],
    interfaces,
    datapath_networks: opts.rows === false ? [] : [row(P10.uuid), row(FLAT.uuid)],
  };
}

function host(res: FeedResources) {
  const local = localFor(DP1, VMS);
  local.ports.set('eth1', { ofport: UPLINK_PORT });
  return new SimSwitch(computeFlows(buildModelView(res), local));
}

const port = (uuid: string) => Number(uuid.replace(/\D/g, ''));
const vm = (uuid: string) => VMS.find((v) => v.uuid === uuid)!;
function fromVm(sw: SimSwitch, uuid: string, pkt: PacketInput) {
  return sw.inject({ ...pkt, in_port: port(uuid) });
}
const outPorts = (r: { outputs: { port: number }[] }) => r.outputs.map((o) => o.port).sort((a, b) => a - b);

describe('physical networks on an uplink', () => {
  const sw = host(resources());
  const v1 = vm('if-veth1');

  test('unicast to a MAC beyond the uplink leaves tagged with the VLAN, never through a tunnel', () => {
    const r = fromVm(sw, 'if-veth1', icmpEcho(v1.mac, v1.ip, OUTSIDE_MAC, '192.168.10.100'));
    assert.deepEqual(outPorts(r), [UPLINK_PORT], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    assert.equal(r.outputs[0]!.packet.vlan_vid, 0x1000n | 10n);
  });

  test('a VM of the same network on another host is reached through the uplink (tag on), not the tunnel', () => {
    const v4 = vm('if-veth4');
    const r = fromVm(sw, 'if-veth1', icmpEcho(v1.mac, v1.ip, v4.mac, v4.ip));
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    assert.ok(!outPorts(r).includes(GRE_PORT) && !outPorts(r).includes(VXLAN_PORT));
  });

  test('the flat network leaves untagged', () => {
    const v3 = vm('if-veth3');
    const r = fromVm(sw, 'if-veth3', icmpEcho(v3.mac, v3.ip, OUTSIDE_MAC, '192.168.0.100'));
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    assert.equal(r.outputs[0]!.packet.vlan_vid, undefined);
  });

  test('a tagged frame from the uplink reaches its VM untagged; other tags and networks stay apart', () => {
    const inbound = { ...icmpEcho(OUTSIDE_MAC, '192.168.10.100', v1.mac, v1.ip), in_port: UPLINK_PORT };
    const r = sw.inject({ ...inbound, vlan_vid: 0x1000 | 10 });
    assert.deepEqual(outPorts(r), [port('if-veth1')]);
    assert.equal(r.outputs[0]!.packet.vlan_vid, undefined);
    // VLAN 20 is no network on this uplink; untagged is the flat network, where v1's MAC is nobody.
    assert.deepEqual(outPorts(sw.inject({ ...inbound, vlan_vid: 0x1000 | 20 })), []);
    assert.deepEqual(outPorts(sw.inject(inbound)), []);
    const v3 = vm('if-veth3');
    const flat = sw.inject({ ...icmpEcho(OUTSIDE_MAC, '192.168.0.100', v3.mac, v3.ip), in_port: UPLINK_PORT });
    assert.deepEqual(outPorts(flat), [port('if-veth3')]);
  });

  test('broadcast from the uplink reaches the local ports of its network only, never back out', () => {
    const r = sw.inject({
      ...icmpEcho(OUTSIDE_MAC, '192.168.10.100', BCAST, '192.168.10.255'),
      in_port: UPLINK_PORT,
      vlan_vid: 0x1000 | 10,
    });
    assert.deepEqual(outPorts(r), [port('if-veth1'), port('if-veth2')]);
  });

  test('broadcast from a VM reaches its local neighbour and the uplink (tagged), nothing else', () => {
    const r = fromVm(sw, 'if-veth1', icmpEcho(v1.mac, v1.ip, BCAST, '192.168.10.255'));
    assert.deepEqual(outPorts(r), [port('if-veth2'), UPLINK_PORT]);
    assert.equal(r.outputs.find((o) => o.port === UPLINK_PORT)!.packet.vlan_vid, 0x1000n | 10n);
    assert.equal(r.outputs.find((o) => o.port === port('if-veth2'))!.packet.vlan_vid, undefined);
  });

  test('a VM on a physical network is still anti-spoofed: a forged source MAC goes nowhere', () => {
    const r = fromVm(sw, 'if-veth1', icmpEcho(OUTSIDE_MAC, v1.ip, BCAST, '192.168.10.255'));
    assert.deepEqual(outPorts(r), []);
  });

  test("without datapath_networks rows, a host interface of the network itself is that network's uplink", () => {
    const s2 = host(resources({ rows: false, uplinkNetwork: FLAT.uuid }));
    const v3 = vm('if-veth3');
    assert.deepEqual(outPorts(fromVm(s2, 'if-veth3', icmpEcho(v3.mac, v3.ip, OUTSIDE_MAC, '192.168.0.100'))), [
      UPLINK_PORT,
    ]);
    // The VLAN network has no uplink here: its VMs reach only each other.
    assert.deepEqual(outPorts(fromVm(s2, 'if-veth1', icmpEcho(v1.mac, v1.ip, OUTSIDE_MAC, '192.168.10.100'))), []);
    const v2 = vm('if-veth2');
    assert.deepEqual(outPorts(fromVm(s2, 'if-veth1', icmpEcho(v1.mac, v1.ip, v2.mac, v2.ip))), [port('if-veth2')]);
  });

  test('the uplink port itself gets no anti-spoofing flows, only its classifier', () => {
    const r = sw.inject({
      ...icmpEcho('02:ee:00:00:00:99', '10.9.9.9', macNum(vm('if-veth2').mac), vm('if-veth2').ip),
      in_port: UPLINK_PORT,
      vlan_vid: 0x1000 | 10,
    });
    assert.deepEqual(outPorts(r), [port('if-veth2')]);
    assert.equal(r.path[0]!.tableName, 'classifier');
    assert.match(r.path[0]!.owner, /if-eth1/);
  });
});

test('status: an uplink whose port is not on the bridge, and physical networks left without a way out, are named', () => {
  const view = buildModelView(resources());
  const local = localFor(DP1, VMS); // no eth1 port on this bridge
  const c = new FlowCompiler();
  c.update(view, local, []);
  assert.deepEqual(uplinkProblems(view, local, c.currentBindings(), c.presentNetworks()), [
    'uplink if-eth1: port eth1 is not on the bridge',
    'physical network nw-flat: no uplink on this datapath (its ports here reach only each other)',
    'physical network nw-p10: no uplink on this datapath (its ports here reach only each other)',
  ]);
  local.ports.set('eth1', { ofport: UPLINK_PORT });
  const c2 = new FlowCompiler();
  c2.update(view, local, []);
  assert.deepEqual(uplinkProblems(view, local, c2.currentBindings(), c2.presentNetworks()), []);
  // A cut cable: the port is there, its carrier is not.
  local.ports.set('eth1', { ofport: UPLINK_PORT, linkUp: false });
  const c3 = new FlowCompiler();
  c3.update(view, local, []);
  assert.deepEqual(uplinkProblems(view, local, c3.currentBindings(), c3.presentNetworks()), [
    'uplink if-eth1: port eth1 has no carrier (link down)',
  ]);
});

describe('routing between a physical network and a virtual one (router_p2v)', () => {
  const R_P = { mac: '02:00:10:00:00:0a', ip: '192.168.10.254' };
  const R_V = { mac: '02:00:10:00:01:0a', ip: '10.1.0.254' };
  const V = { uuid: 'nw-v', ipv4_network: '10.1.0.0', ipv4_prefix: 24, tunnel_key: 301, ct_zone: 31 };
  const VM5 = { uuid: 'if-veth5', ip: '10.1.0.5', mac: '02:00:00:01:00:05' };
  const UPSTREAM = { ip: '192.168.10.1', mac: '02:ee:00:00:00:fe' };

  /** A second inside network of the same router, with a VM on the same host. */
  const W = { uuid: 'nw-w', ipv4_network: '10.2.0.0', ipv4_prefix: 24, tunnel_key: 302, ct_zone: 32 };
  const R_W = { mac: '02:00:10:00:02:0a', ip: '10.2.0.254' };
  const VM6 = { uuid: 'if-veth6', ip: '10.2.0.6', mac: '02:00:00:02:00:06' };

  function routed(
    pinned: string,
    opts: {
      floating?: string;
      hostMac?: string;
      upstream?: boolean;
      second?: boolean;
      /** A translation of its own (port translations, OpenVNet's form on the router interface). */
      translation?: NonNullable<FeedResources['translations']>[number];
    } = {},
  ) {
    const res = resources();
    if (opts.hostMac)
      for (const row of res.datapath_networks ?? []) if (row.network_uuid === P10.uuid) row.mac_address = opts.hostMac;
    if (opts.floating)
      res.translations = [
        {
          uuid: 'tr-vm5',
          interface_uuid: VM5.uuid,
          mode: 'static_address',
          passthrough: false,
          static_addresses: [{ ingress_ipv4_address: VM5.ip, egress_ipv4_address: opts.floating }],
        },
      ];
    if (opts.translation) res.translations = [opts.translation];
    res.networks = [...(res.networks ?? []), { ...V, network_mode: 'virtual', vlan_id: null }];
    res.interfaces = [
      ...(res.interfaces ?? []),
      iface('if-rp', 'simulated', P10.uuid, R_P.mac, R_P.ip, { owner_datapath_uuid: pinned }),
      iface('if-rv', 'simulated', V.uuid, R_V.mac, R_V.ip),
      iface(VM5.uuid, 'vif', V.uuid, VM5.mac, VM5.ip, { active_datapath_uuid: DP1 }),
      // A host beyond the uplink, registered OpenVNet's way (mode remote: its MAC and address are known).
      iface('if-x', 'remote', P10.uuid, OUTSIDE_MAC, '192.168.10.100'),
    ];
    res.route_links = [{ uuid: 'rl-p', mac_address: '02:00:30:00:00:0a' }];
    const route = (uuid: string, ifc: string, nw: string, net: string) => ({
      uuid,
      interface_uuid: ifc,
      route_link_uuid: 'rl-p',
      network_uuid: nw,
      ipv4_network: net,
      ipv4_prefix: 24,
      ingress: true,
      egress: true,
    });
    res.routes = [route('r-p', 'if-rp', P10.uuid, '192.168.10.0'), route('r-v', 'if-rv', V.uuid, '10.1.0.0')];
    if (opts.upstream) {
      // The default route: everything else through the upstream router on the physical network.
      res.routes.push({
        ...route('r-up', 'if-rp', P10.uuid, '0.0.0.0'),
        ipv4_prefix: 0,
        gateway_ipv4_address: UPSTREAM.ip,
      });
      res.interfaces.push(iface('if-upstream', 'remote', P10.uuid, UPSTREAM.mac, UPSTREAM.ip));
    }
    const vms = [...VMS, { ...VM5, network: V.uuid, dp: DP1 }];
    if (opts.second) {
      res.networks.push({ ...W, network_mode: 'virtual', vlan_id: null });
      res.interfaces.push(
        iface('if-rw', 'simulated', W.uuid, R_W.mac, R_W.ip),
        iface(VM6.uuid, 'vif', W.uuid, VM6.mac, VM6.ip, { active_datapath_uuid: DP1 }),
      );
      res.routes.push(route('r-w', 'if-rw', W.uuid, '10.2.0.0'));
      vms.push({ ...VM6, network: W.uuid, dp: DP1 });
    }
    const local = localFor(DP1, vms);
    local.ports.set('eth1', { ofport: UPLINK_PORT });
    return new SimSwitch(computeFlows(buildModelView(res), local));
  }

  const arpForRouter = {
    in_port: UPLINK_PORT,
    vlan_vid: 0x1000 | 10,
    eth_src: macNum(OUTSIDE_MAC),
    eth_dst: BCAST,
    eth_type: 0x0806,
    arp_op: 1,
    arp_sha: macNum(OUTSIDE_MAC),
    arp_spa: 0xc0a80a64,
    arp_tha: 0n,
    arp_tpa: 0xc0a80afe,
  };

  test('ARP from the segment for the router address is answered by its pinned host, tag kept', () => {
    const r = routed(DP1).inject(arpForRouter);
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    const p = r.outputs[0]!.packet;
    assert.equal(p.arp_op, 2n);
    assert.equal(p.arp_sha, macNum(R_P.mac));
    assert.equal(p.vlan_vid, 0x1000n | 10n);
    // Pinned elsewhere: this host does not answer (the request only floods to its local ports, as any
    // broadcast from the segment does), so the segment hears one answer.
    const elsewhere = routed(DP2).inject(arpForRouter);
    assert.ok(!outPorts(elsewhere).includes(UPLINK_PORT));
    assert.ok(elsewhere.outputs.every((o) => o.packet.arp_op === 1n));
  });

  test('the segment reaches a VM of the virtual network through the router, on any host with the uplink', () => {
    for (const pinned of [DP1, DP2]) {
      const r = routed(pinned).inject({
        ...icmpEcho(OUTSIDE_MAC, '192.168.10.100', R_P.mac, VM5.ip),
        in_port: UPLINK_PORT,
        vlan_vid: 0x1000 | 10,
      });
      assert.deepEqual(outPorts(r), [port(VM5.uuid)], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
      const p = r.outputs[0]!.packet;
      assert.equal(p.eth_src, macNum(R_V.mac));
      assert.equal(p.eth_dst, macNum(VM5.mac));
      assert.equal(p.vlan_vid, undefined);
      assert.equal(p.nw_ttl, 63n);
    }
  });

  test('a VM of the virtual network reaches the host beyond the uplink: routed here, out tagged', () => {
    const r = routed(DP1).inject({ ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100'), in_port: port(VM5.uuid) });
    assert.deepEqual(outPorts(r), [UPLINK_PORT], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    const p = r.outputs[0]!.packet;
    assert.equal(p.vlan_vid, 0x1000n | 10n);
    assert.equal(p.eth_src, macNum(R_P.mac));
    assert.equal(p.eth_dst, macNum(OUTSIDE_MAC));
  });

  test('echo from the segment to the router address is answered in the switch, tag kept, on any host', () => {
    for (const pinned of [DP1, DP2]) {
      const r = routed(pinned).inject({
        ...icmpEcho(OUTSIDE_MAC, '192.168.10.100', R_P.mac, R_P.ip),
        in_port: UPLINK_PORT,
        vlan_vid: 0x1000 | 10,
      });
      assert.deepEqual(outPorts(r), [UPLINK_PORT]);
      const p = r.outputs[0]!.packet;
      assert.equal(p.icmpv4_type, 0n);
      assert.equal(p.eth_src, macNum(R_P.mac));
      assert.equal(p.eth_dst, macNum(OUTSIDE_MAC));
      assert.equal(p.vlan_vid, 0x1000n | 10n);
    }
  });

  test('a route with a next hop sends beyond the physical network to its gateway, floating IP or not', () => {
    for (const floating of [undefined, '192.168.10.50']) {
      const r = routed(DP1, { upstream: true, ...(floating ? { floating } : {}) }).inject({
        ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, '198.51.100.10'),
        in_port: port(VM5.uuid),
      });
      assert.deepEqual(outPorts(r), [UPLINK_PORT], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
      const p = r.outputs[0]!.packet;
      assert.equal(p.eth_dst, macNum(UPSTREAM.mac));
      assert.equal(p.ipv4_dst, BigInt(0xc633640a));
      assert.equal(p.ipv4_src, floating ? BigInt(0xc0a80a32) : BigInt(0x0a010005));
      assert.equal(p.vlan_vid, 0x1000n | 10n);
    }
  });

  test("a VM with a floating IP reaches its router's other inside network untranslated, not out of the uplink", () => {
    // The default route's translation (0/0) used to outrank the inside network's /24 route.
    for (const floating of [undefined, '192.168.10.50']) {
      const r = routed(DP1, { upstream: true, second: true, ...(floating ? { floating } : {}) }).inject({
        ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, VM6.ip),
        in_port: port(VM5.uuid),
      });
      assert.deepEqual(outPorts(r), [port(VM6.uuid)], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
      assert.equal(r.outputs[0]!.packet.ipv4_src, BigInt(0x0a010005), 'its own address');
    }
  });

  test('with a per-host MAC on the physical network (datapath_networks.mac_address), routed packets leave from it', () => {
    const r = routed(DP2, { hostMac: '02:00:40:00:00:01' }).inject({
      ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100'),
      in_port: port(VM5.uuid),
    });
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    assert.equal(r.outputs[0]!.packet.eth_src, macNum('02:00:40:00:00:01'));
  });

  test('a VM of the physical network on another host is routed to over the uplink, not a tunnel', () => {
    const v4 = vm('if-veth4');
    const r = routed(DP1).inject({ ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, v4.ip), in_port: port(VM5.uuid) });
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    assert.equal(r.outputs[0]!.packet.eth_dst, macNum(v4.mac));
  });

  const FIP = '192.168.10.50';

  test('a floating IP: ARP for it is answered on the VM host with the VM MAC, tag kept', () => {
    const r = routed(DP1, { floating: FIP }).inject({ ...arpForRouter, arp_tpa: 0xc0a80a32 });
    assert.deepEqual(outPorts(r), [UPLINK_PORT]);
    const p = r.outputs[0]!.packet;
    assert.equal(p.arp_sha, macNum(VM5.mac));
    assert.equal(p.vlan_vid, 0x1000n | 10n);
  });

  test('a floating IP: inbound is translated to the VM address and routed into its network', () => {
    const r = routed(DP1, { floating: FIP }).inject({
      ...icmpEcho(OUTSIDE_MAC, '192.168.10.100', VM5.mac, FIP),
      in_port: UPLINK_PORT,
      vlan_vid: 0x1000 | 10,
    });
    assert.deepEqual(outPorts(r), [port(VM5.uuid)], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    const p = r.outputs[0]!.packet;
    assert.equal(p.ipv4_dst, BigInt(0x0a010005));
    assert.equal(p.ipv4_src, BigInt(0xc0a80a64));
    assert.equal(p.eth_src, macNum(R_V.mac));
    assert.equal(p.vlan_vid, undefined);
  });

  test('a floating IP: the VM leaves into the external network from its floating address, with its own MAC', () => {
    const out = (sw: SimSwitch) =>
      sw.inject({ ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100'), in_port: port(VM5.uuid) });
    const r = out(routed(DP1, { floating: FIP }));
    assert.deepEqual(outPorts(r), [UPLINK_PORT], r.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    const p = r.outputs[0]!.packet;
    assert.equal(p.ipv4_src, BigInt(0xc0a80a32));
    assert.equal(p.eth_src, macNum(VM5.mac));
    assert.equal(p.eth_dst, macNum(OUTSIDE_MAC));
    assert.equal(p.vlan_vid, 0x1000n | 10n);
    // Without the translation it is routed from its own address and the router MAC.
    const plain = out(routed(DP1)).outputs[0]!.packet;
    assert.equal(plain.ipv4_src, BigInt(0x0a010005));
    assert.equal(plain.eth_src, macNum(R_P.mac));
  });

  // Port translations (TCP and UDP, as OpenVNet's static_address.rb): FIP:8080 ↔ VM5:80, nothing else of FIP.
  const portTr = (ingress: string, egress: string, ingressPort: number, egressPort: number, on = VM5.uuid) => ({
    uuid: 'tr-ports',
    interface_uuid: on,
    mode: 'static_address' as const,
    passthrough: false,
    static_addresses: [
      {
        ingress_ipv4_address: ingress,
        egress_ipv4_address: egress,
        ingress_port_number: ingressPort,
        egress_port_number: egressPort,
      },
    ],
  });
  const fromSegment = (pkt: ReturnType<typeof tcp>) => ({ ...pkt, in_port: UPLINK_PORT, vlan_vid: 0x1000 | 10 });
  const udp = (srcIp: string, dstIp: string, sport: number, dport: number, srcMac: string, dstMac: string) => {
    const { tcp_src: _s, tcp_dst: _d, ...rest } = tcp(srcMac, srcIp, dstMac, dstIp, 0, 0);
    return { ...rest, ip_proto: 17, udp_src: sport, udp_dst: dport };
  };

  test('a port translation: the outside TCP and UDP port reach the VM on its own port, other ports nothing', () => {
    const sw = routed(DP1, { translation: portTr(VM5.ip, FIP, 80, 8080) });
    const arp = sw.inject({ ...arpForRouter, arp_tpa: 0xc0a80a32 });
    assert.equal(arp.outputs[0]!.packet.arp_sha, macNum(VM5.mac), 'ARP answered once, with the VM MAC');
    assert.equal(arp.outputs.length, 1);
    const tcpIn = sw.inject(fromSegment(tcp(OUTSIDE_MAC, '192.168.10.100', VM5.mac, FIP, 40000, 8080)));
    assert.deepEqual(outPorts(tcpIn), [port(VM5.uuid)], tcpIn.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    assert.equal(tcpIn.outputs[0]!.packet.ipv4_dst, BigInt(0x0a010005));
    assert.equal(tcpIn.outputs[0]!.packet.tcp_dst, 80n);
    assert.equal(tcpIn.outputs[0]!.packet.eth_dst, macNum(VM5.mac));
    const udpIn = sw.inject(fromSegment(udp('192.168.10.100', FIP, 40000, 8080, OUTSIDE_MAC, VM5.mac)));
    assert.deepEqual(outPorts(udpIn), [port(VM5.uuid)]);
    assert.equal(udpIn.outputs[0]!.packet.udp_dst, 80n);
    for (const pkt of [
      tcp(OUTSIDE_MAC, '192.168.10.100', VM5.mac, FIP, 40000, 80),
      tcp(OUTSIDE_MAC, '192.168.10.100', VM5.mac, FIP, 40000, 22),
      icmpEcho(OUTSIDE_MAC, '192.168.10.100', VM5.mac, FIP),
    ]) {
      const r = sw.inject(fromSegment(pkt as ReturnType<typeof tcp>));
      assert.ok(!outPorts(r).includes(port(VM5.uuid)), `unmapped ${pkt.tcp_dst ?? 'icmp'} reached the VM`);
    }
  });

  test('a port translation: replies from the VM port leave from the outside address and port, others untranslated', () => {
    const sw = routed(DP1, { translation: portTr(VM5.ip, FIP, 80, 8080) });
    const reply = sw.inject({ ...tcp(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100', 80, 40000), in_port: port(VM5.uuid) });
    assert.deepEqual(outPorts(reply), [UPLINK_PORT], reply.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '));
    const p = reply.outputs[0]!.packet;
    assert.equal(p.ipv4_src, BigInt(0xc0a80a32));
    assert.equal(p.tcp_src, 8080n);
    assert.equal(p.eth_src, macNum(VM5.mac));
    const udpReply = sw.inject({
      ...udp(VM5.ip, '192.168.10.100', 80, 40000, VM5.mac, R_V.mac),
      in_port: port(VM5.uuid),
    });
    assert.equal(udpReply.outputs[0]!.packet.udp_src, 8080n);
    assert.equal(udpReply.outputs[0]!.packet.ipv4_src, BigInt(0xc0a80a32));
    const other = sw.inject({ ...tcp(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100', 22, 40000), in_port: port(VM5.uuid) });
    assert.equal(other.outputs[0]!.packet.ipv4_src, BigInt(0x0a010005), 'its own address');
    assert.equal(other.outputs[0]!.packet.tcp_src, 22n);
  });

  test("OpenVNet's form on the router interface (ingress outside, egress inside) is the same floating IP", () => {
    // As wanedge.yml: the translation is on the physical network's router interface; answered with its MAC.
    const whole = routed(DP1, {
      translation: {
        ...portTr(FIP, VM5.ip, 0, 0, 'if-rp'),
        static_addresses: [{ ingress_ipv4_address: FIP, egress_ipv4_address: VM5.ip }],
      },
    });
    const arp = whole.inject({ ...arpForRouter, arp_tpa: 0xc0a80a32 });
    assert.deepEqual(outPorts(arp), [UPLINK_PORT]);
    assert.equal(arp.outputs[0]!.packet.arp_sha, macNum(R_P.mac));
    const inbound = whole.inject(
      fromSegment(icmpEcho(OUTSIDE_MAC, '192.168.10.100', R_P.mac, FIP) as ReturnType<typeof tcp>),
    );
    assert.deepEqual(
      outPorts(inbound),
      [port(VM5.uuid)],
      inbound.path.map((s) => `${s.tableName}:${s.owner}`).join(' → '),
    );
    assert.equal(inbound.outputs[0]!.packet.ipv4_dst, BigInt(0x0a010005));
    assert.equal(inbound.outputs[0]!.packet.eth_dst, macNum(VM5.mac));
    const out = whole.inject({ ...icmpEcho(VM5.mac, VM5.ip, R_V.mac, '192.168.10.100'), in_port: port(VM5.uuid) });
    assert.deepEqual(outPorts(out), [UPLINK_PORT]);
    assert.equal(out.outputs[0]!.packet.ipv4_src, BigInt(0xc0a80a32));
    assert.equal(out.outputs[0]!.packet.eth_src, macNum(R_P.mac));
    // Its port form: ingress port outside, egress port the VM's.
    const ports = routed(DP1, { translation: portTr(FIP, VM5.ip, 8080, 80, 'if-rp') });
    const tcpIn = ports.inject(fromSegment(tcp(OUTSIDE_MAC, '192.168.10.100', R_P.mac, FIP, 40000, 8080)));
    assert.deepEqual(outPorts(tcpIn), [port(VM5.uuid)]);
    assert.equal(tcpIn.outputs[0]!.packet.tcp_dst, 80n);
    // Not the router's host (pinned elsewhere): not answered here.
    const elsewhere = routed(DP2, { translation: portTr(FIP, VM5.ip, 8080, 80, 'if-rp') });
    assert.ok(!outPorts(elsewhere.inject({ ...arpForRouter, arp_tpa: 0xc0a80a32 })).includes(UPLINK_PORT));
  });
});

test('floating IPs of VMs bound here are announced on the uplink of their external network', () => {
  const res = resources();
  res.translations = [
    {
      uuid: 'tr-1',
      interface_uuid: 'if-veth1',
      mode: 'static_address',
      passthrough: false,
      static_addresses: [{ ingress_ipv4_address: '192.168.10.1', egress_ipv4_address: '192.168.0.50' }],
    },
  ];
  const view = buildModelView(res);
  const local = localFor(DP1, VMS);
  local.ports.set('eth1', { ofport: UPLINK_PORT });
  const c = new FlowCompiler();
  c.update(view, local, []);
  assert.deepEqual(floatingAnnouncements(statusContext(view, local, c.currentBindings())), [
    { translationUuid: 'tr-1', address: '192.168.0.50', mac: '02:00:00:00:10:01', ofport: UPLINK_PORT, vlan: null },
  ]);
  // Without the uplink there is nowhere to announce it.
  const bare = localFor(DP1, VMS);
  const c2 = new FlowCompiler();
  c2.update(view, bare, []);
  assert.deepEqual(floatingAnnouncements(statusContext(view, bare, c2.currentBindings())), []);
});
