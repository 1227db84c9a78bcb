// Router gateways with snat, from the model to each host's flows: which candidate is active (priority, agent
// connected, uplink not down), what the active gateway translates, how the other hosts send there, and that
// nothing leaves untranslated while no candidate can serve. The packets themselves are in test/e2e/snat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activeGateway } from '../../../src/agent/pipeline/active-gateway.js';
import { lookupPriority } from '../../../src/agent/pipeline/lookup-priority.js';
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { formatFlow } from '../../../src/agent/pipeline/format.js';
import { buildModelView, type FeedResources } from '../../../src/agent/pipeline/model-view.js';
import { TABLE } from '../../../src/agent/pipeline/tables.js';
import { cookieFor } from '../../../src/agent/pipeline/cookies.js';
import { DP1, DP2, DP3, DP_IP, datapathItems, iface, localFor } from './fixtures.js';
import { ipNum, macNum } from './fabric.js';
import { SimSwitch } from '../../../src/agent/pipeline/simulate.js';

const EXT = { uuid: 'nw-ext', ipv4_network: '192.168.10.0', ipv4_prefix: 24, tunnel_key: 201, ct_zone: 21 };
const INSIDE = { uuid: 'nw-a', ipv4_network: '10.0.0.0', ipv4_prefix: 24, tunnel_key: 202, ct_zone: 22 };
const VM = { uuid: 'if-vm7', network: INSIDE.uuid, ip: '10.0.0.10', mac: '02:00:00:0a:00:10', dp: DP3 };
const UPLINK_PORT = 50;

function resources(opts: { connected?: Record<string, boolean>; uplinkDown?: string[]; candidates?: boolean } = {}) {
  const connected = opts.connected ?? {};
  const interfaces = [
    iface(VM.uuid, 'vif', VM.network, VM.mac, VM.ip, { active_datapath_uuid: VM.dp }),
    iface('if-rin', 'simulated', INSIDE.uuid, '02:00:10:00:0a:02', '10.0.0.1'),
    iface('if-rext', 'simulated', EXT.uuid, '02:00:10:00:0a:01', '192.168.10.11'),
    iface('if-upstream', 'remote', EXT.uuid, '02:00:00:ee:00:01', '192.168.10.1'),
  ];
  for (const dp of [DP1, DP2])
    interfaces.push(
      iface(`if-up-${dp}`, 'host', null as unknown as string, '02:00:00:00:ee:01', null, {
        owner_datapath_uuid: dp,
        port_name: 'eth1',
        network_uuid: null,
        mac_leases: [],
        status: opts.uplinkDown?.includes(dp) ? 'down' : 'up',
        active_datapath_uuid: dp,
      }),
    );
  const res: FeedResources = {
    datapaths: datapathItems((uuid) => ({ is_connected: connected[uuid] ?? true })),
    networks: [
      { ...EXT, network_mode: 'physical', vlan_id: 10 },
      { ...INSIDE, network_mode: 'virtual' },
    ],
    interfaces,
    datapath_networks: [DP1, DP2].map((dp, k) => ({
      uuid: `${dp}/${EXT.uuid}`,
      datapath_uuid: dp,
      network_uuid: EXT.uuid,
      interface_uuid: `if-up-${dp}`,
      mac_address: null,
      gateway_priority: opts.candidates === false ? null : 200 - 100 * k,
    })),
    route_links: [{ uuid: 'rl-a', mac_address: '02:00:30:00:00:0a' }],
    routes: [
      ['r-in', 'if-rin', INSIDE.uuid, '10.0.0.0', 24, null],
      ['r-ext', 'if-rext', EXT.uuid, '192.168.10.0', 24, null],
      ['r-default', 'if-rext', EXT.uuid, '0.0.0.0', 0, '192.168.10.1'],
    ].map(([uuid, i, nw, net, len, hop]) => ({
      uuid: uuid as string,
      interface_uuid: i as string,
      route_link_uuid: 'rl-a',
      network_uuid: nw as string,
      ipv4_network: net as string,
      ipv4_prefix: len as number,
      gateway_ipv4_address: hop as string | null,
      ingress: true,
      egress: true,
    })),
    translations: [
      {
        uuid: 'tr-snat',
        interface_uuid: 'if-rext',
        mode: 'snat',
        passthrough: false,
        static_addresses: [],
        ct_zone: 30,
      },
    ],
  };
  return res;
}

function flowsOf(dp: string, res: FeedResources, snatPorts?: { min: number; max: number }): string[] {
  const local = { ...localFor(dp, dp === DP3 ? [VM] : []), snatPorts };
  if (dp !== DP3) local.ports.set('eth1', { ofport: UPLINK_PORT });
  return computeFlows(buildModelView(res), local).map((f) => formatFlow(f, { names: true }));
}

const ctx = (res: FeedResources) => ({ view: buildModelView(res), dep: () => {} });

test('the active gateway is the connected candidate with the highest priority whose uplink is not down', () => {
  assert.equal(activeGateway(ctx(resources()), EXT.uuid), DP1);
  assert.equal(activeGateway(ctx(resources({ connected: { [DP1]: false } })), EXT.uuid), DP2);
  assert.equal(activeGateway(ctx(resources({ uplinkDown: [DP1] })), EXT.uuid), DP2);
  assert.equal(activeGateway(ctx(resources({ connected: { [DP1]: false }, uplinkDown: [DP2] })), EXT.uuid), null);
  assert.equal(activeGateway(ctx(resources({ candidates: false })), EXT.uuid), undefined);
});

test('the active gateway translates the inside subnet in its own zone and restores it on the way back', () => {
  const flows = flowsOf(DP1, resources());
  const snat = flows.filter((f) => f.includes('table=snat,priority=100'));
  assert.equal(snat.length, 1, flows.join('\n'));
  assert.match(snat[0]!, /nw_src=10\.0\.0\.0\/255\.255\.255\.0/);
  assert.match(snat[0]!, /ct\(commit,zone=30,table=snat_result,nat\(src=192\.168\.10\.11\)\)/);
  // Back from the commit: translated packets go on; a new connection conntrack could not translate (no free port:
  // OVS lets it through untranslated, +trk+new without +snat) is dropped by a flow of its own, which counts it.
  const result = flows.filter((f) => /table=snat_result,priority=[1-9]/.test(f));
  assert.equal(result.length, 2, result.join('\n'));
  assert.match(result.find((f) => f.includes('priority=100'))!, /ct_state=\+trk\+snat actions=goto_table:l2_lookup$/);
  const refused = result.find((f) => f.includes('priority=90'))!;
  assert.match(refused, /ct_state=\+new\+trk-snat actions=drop$/);
  assert.match(refused, new RegExp(`cookie=0x${cookieFor('translation', 'tr-snat', 'snat_refused').toString(16)}`));
  // --snat-ports: the range conntrack picks source ports from.
  const ranged = flowsOf(DP1, resources(), { min: 20000, max: 20009 }).find((f) =>
    f.includes('table=snat,priority=100'),
  );
  assert.match(ranged!, /nat\(src=192\.168\.10\.11:20000-20009\)/);
  const back = flows.filter((f) => f.includes('table=uplink_ingress,priority=112'));
  assert.equal(back.length, 1, flows.join('\n'));
  assert.match(back[0]!, /nw_dst=192\.168\.10\.11/);
  assert.match(back[0]!, /ct\(zone=30,table=unsnat,nat\)/);
  // Packets other hosts tunnel here, still addressed to the router, enter the link's lookup.
  assert.ok(
    flows.some((f) => /table=tunnel_ingress,priority=110,tun_id=0xca,eth_dst=02:00:10:00:0a:02 /.test(f)),
    flows.filter((f) => f.includes('tunnel_ingress')).join('\n'),
  );
  // The standby has none of it.
  const standby = flowsOf(DP2, resources());
  assert.ok(!standby.some((f) => /table=snat,priority=100|uplink_ingress,priority=112/.test(f)));
});

test('elsewhere the inside network goes to the gateway through a tunnel, or nowhere while none can serve', () => {
  const toGateway = (res: FeedResources) =>
    flowsOf(DP3, res).filter((f) =>
      new RegExp(`table=l3_lookup,priority=(${lookupPriority(0, 'gateway')}|${lookupPriority(24, 'gateway')}),`).test(
        f,
      ),
    );
  const now = toGateway(resources());
  assert.equal(now.length, 2, now.join('\n')); // the default route and the external subnet
  for (const f of now) assert.match(f, new RegExp(`set_field:${DP_IP[DP1]}->tun_dst`));
  for (const f of toGateway(resources({ connected: { [DP1]: false } })))
    assert.match(f, new RegExp(`set_field:${DP_IP[DP2]}->tun_dst`));
  for (const f of toGateway(resources({ connected: { [DP1]: false, [DP2]: false } })))
    assert.match(f, / actions=drop$/, f);
  assert.ok(TABLE.snat > TABLE.l3_neighbor && TABLE.snat < TABLE.snat_result && TABLE.snat_result < TABLE.l2_lookup);
  // The way to the gateway for 0/0 must not outrank the route into an inside network (a /24).
  assert.ok(lookupPriority(0, 'gateway') < lookupPriority(24, 'route'));
  assert.ok(lookupPriority(0, 'floating') < lookupPriority(24, 'route'));
});

test('frames from the uplink too big for the virtual networks go to the agent (for ICMP), not on', () => {
  const flows = flowsOf(DP1, resources());
  // Untagged frames up to 1,464 bytes (1,450 of IP), tagged ones up to 1,468 (the switch counts the tag).
  for (const len of [1464, 1468])
    assert.ok(
      flows.some((f) =>
        new RegExp(`table=classifier,.*in_port=50.* actions=.*check_pkt_larger\\(${len}\\)->reg0\\[4\\.\\.4\\]`).test(
          f,
        ),
      ),
      flows.filter((f) => f.includes('classifier')).join('\n'),
    );
  // The way back through the gateway has a twin one priority higher for TOO_BIG frames: meter 2, controller.
  const twin = flows.filter((f) => f.includes('table=uplink_ingress,priority=113'));
  assert.equal(twin.length, 1, flows.filter((f) => f.includes('uplink_ingress')).join('\n'));
  assert.match(twin[0]!, /reg0=0x10\/0x10/);
  assert.match(twin[0]!, /meter:2.*controller/);
});

test('hairpin on the gateway itself: a frame to an address it answers for on the segment turns around in the switch', () => {
  // The VM is on the gateway DP1 (which has the uplink) with a floating IP, so DP1 serves that floating IP too.
  const FIP = '192.168.10.50';
  const res = resources();
  res.interfaces = (res.interfaces ?? []).map((i) => (i.uuid === VM.uuid ? { ...i, active_datapath_uuid: DP1 } : i));
  res.translations = [
    ...(res.translations ?? []),
    {
      uuid: 'tr-vm7',
      interface_uuid: VM.uuid,
      mode: 'static_address',
      passthrough: false,
      static_addresses: [{ ingress_ipv4_address: VM.ip, egress_ipv4_address: FIP }],
    },
  ];
  const local = localFor(DP1, [{ ...VM, dp: DP1 }]);
  local.ports.set('eth1', { ofport: UPLINK_PORT });
  const flows = computeFlows(buildModelView(res), local);
  const text = flows.map((f) => formatFlow(f, { names: true }));
  // One turn-around per MAC DP1 answers for on the segment: the floating IP's (the VM's) and the router's.
  const loops = text.filter((f) => f.includes('table=l2_lookup,priority=20'));
  assert.deepEqual(
    loops.map((f) => /eth_dst=([0-9a-f:]+)/.exec(f)?.[1]).sort(),
    ['02:00:00:0a:00:10', '02:00:10:00:0a:01'],
    loops.join('\n'),
  );
  for (const f of loops)
    assert.match(
      f,
      /reg0=0x0\/0x8 actions=load:0x0->reg0\[0\.\.31\],load:0x32->in_port\[0\.\.15\],push_vlan,set_field:0x100a->vlan_vid,resubmit\(,classifier\)$/,
    );
  // The VM pings its own floating address: it leaves from that address, turns around, is translated back
  // and delivered to the VM itself, from its floating address — as the segment would have brought it.
  const ofport = Number(VM.uuid.replace(/\D/g, ''));
  const sw = new SimSwitch(flows);
  const r = sw.inject({
    in_port: ofport,
    eth_src: macNum(VM.mac),
    eth_dst: macNum('02:00:10:00:0a:02'),
    eth_type: 0x0800,
    ipv4_src: ipNum(VM.ip),
    ipv4_dst: ipNum(FIP),
    ip_proto: 1,
    icmpv4_type: 8,
    icmpv4_code: 0,
    nw_ttl: 64,
  });
  const tables = r.path.map((s) => s.tableName);
  assert.deepEqual(
    r.outputs.map((o) => o.port),
    [ofport],
    `${JSON.stringify(r.drops)}\n${tables.join(' → ')}`,
  );
  const p = r.outputs[0]!.packet;
  assert.equal(p.ipv4_src, BigInt(ipNum(FIP)));
  assert.equal(p.ipv4_dst, BigInt(ipNum(VM.ip)));
  assert.equal(p.eth_dst, macNum(VM.mac));
  assert.equal(p.vlan_vid, undefined, 'the tag the turn-around put on is gone again');
  // It went round once: the classifier twice, uplink_ingress once.
  assert.equal(tables.filter((t) => t === 'classifier').length, 2, tables.join(' → '));
  assert.equal(tables.filter((t) => t === 'uplink_ingress').length, 1, tables.join(' → '));
  // On DP2 (an uplink, not the gateway, the VM not there) nothing turns around.
  assert.ok(!flowsOf(DP2, res).some((f) => f.includes('table=l2_lookup,priority=20')));
});

test('an inside network with a second subnet: the gateway translates both prefixes, other hosts send both there', () => {
  const res = resources();
  res.subnets = [
    {
      uuid: 'sn-a',
      network_uuid: INSIDE.uuid,
      ipv4_network: '10.0.0.0',
      ipv4_prefix: 24,
      gateway_ipv4_address: '10.0.0.1',
    },
    {
      uuid: 'sn-b',
      network_uuid: INSIDE.uuid,
      ipv4_network: '10.1.0.0',
      ipv4_prefix: 24,
      gateway_ipv4_address: '10.1.0.1',
    },
  ];
  const snat = flowsOf(DP1, res).filter((f) => f.includes('table=snat,priority=100'));
  assert.deepEqual(snat.map((f) => /nw_src=([0-9./]+)/.exec(f)?.[1]).sort(), [
    '10.0.0.0/255.255.255.0',
    '10.1.0.0/255.255.255.0',
  ]);
  const toGateway = flowsOf(DP3, res).filter((f) =>
    new RegExp(`table=l3_lookup,priority=${lookupPriority(0, 'gateway')},`).test(f),
  );
  assert.deepEqual(toGateway.map((f) => /nw_src=([0-9./]+)/.exec(f)?.[1]).sort(), [
    '10.0.0.0/255.255.255.0',
    '10.1.0.0/255.255.255.0',
  ]);
});
