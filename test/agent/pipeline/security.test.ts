// Filters and security groups, followed through the simulator with its conntrack: stateful, default deny
// inbound, remote groups follow membership, and flows grow with rules + members (not their product).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCookie } from '../../../src/agent/pipeline/cookies.js';
import { FlowCompiler } from '../../../src/agent/pipeline/flows.js';
import { portMasks } from '../../../src/agent/pipeline/flows-security.js';
import {
  applyChange,
  buildModelView,
  type FeedResources,
  type FeedItem,
  type Loose,
  type ModelView,
} from '../../../src/agent/pipeline/model-view.js';
import { SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { checkFlows } from '../../../src/agent/pipeline/contract.js';
import type { FilterStatic, Interface } from '../../../src/model/types.js';
import { icmpEcho, tcp } from './fabric.js';
import { DP1, localFor, ROUTER, seedResources, seedVms } from './fixtures.js';

const MAC = (n: number) => `02:00:00:00:00:0${n}`;
const IP: Record<number, string> = { 1: '172.16.1.1', 2: '172.16.1.2', 3: '172.16.2.3', 4: '172.16.2.4' };
const vms = seedVms();
const LOCAL = localFor(DP1, vms);

function model(edit: (r: FeedResources) => void): { view: ModelView; c: FlowCompiler; sw: SimSwitch } {
  const r = seedResources(vms);
  edit(r);
  const view = buildModelView(r);
  const c = new FlowCompiler();
  c.update(view, LOCAL, []);
  checkFlows(c.flows());
  return { view, c, sw: new SimSwitch(c.flows()) };
}

function ifc(r: FeedResources, uuid: string): FeedItem<'interfaces'> {
  return r.interfaces!.find((i) => i.uuid === uuid)!;
}

/** Where a packet from VM n ends up (ofports). */
function send(sw: SimSwitch, from: number, pkt: Parameters<SimSwitch['inject']>[0]): number[] {
  return sw.inject({ ...pkt, in_port: from }).outputs.map((o) => o.port);
}

const tcpTo = (a: number, b: number, sport: number, dport: number) => tcp(MAC(a), IP[a]!, MAC(b), IP[b]!, sport, dport);
const ping = (a: number, b: number) => icmpEcho(MAC(a), IP[a]!, MAC(b), IP[b]!);

describe('security groups', () => {
  const { sw } = model((r) => {
    r.security_groups = [
      {
        uuid: 'sg-web',
        rules: [
          { uuid: 'sgr-80', direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
          { uuid: 'sgr-8k', direction: 'ingress', protocol: 'tcp', port_range_min: 8000, port_range_max: 8099 },
        ],
      },
    ];
    ifc(r, 'if-veth2').security_group_uuids = ['sg-web'];
  });

  test('an allowed port passes; another port and ICMP are dropped (default deny inbound)', () => {
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40000, 80)), [2]);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40000, 8050)), [2]);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40000, 8100)), []);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40000, 22)), []);
    assert.deepEqual(send(sw, 1, ping(1, 2)), []);
  });

  test('stateful: the reply of an allowed connection passes; replies of outbound connections come back', () => {
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40001, 80)), [2]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 80, 40001)), [1]);
    // Outbound from the filtered VM is allowed and committed, so the reply to it passes inbound.
    assert.deepEqual(send(sw, 2, ping(2, 1)), [1]);
    assert.deepEqual(send(sw, 1, { ...ping(1, 2), icmpv4_type: 0 }), [2]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 50000, 22)), [1]);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 22, 50000)), [2]);
    // But an unsolicited packet with swapped ports is not a reply.
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 22, 50001)), []);
  });

  test('ARP and DHCP still work for a filtered VM; unfiltered VMs are untouched', () => {
    const arp = sw.inject({
      in_port: 2,
      eth_src: BigInt(`0x${MAC(2).replace(/:/g, '')}`),
      eth_dst: 0xffffffffffffn,
      eth_type: 0x0806,
      arp_op: 1,
      arp_sha: BigInt(`0x${MAC(2).replace(/:/g, '')}`),
      arp_spa: 0xac100102n,
      arp_tpa: 0xac100101n,
    });
    assert.deepEqual(
      arp.outputs.map((o) => o.port),
      [2],
    );
    const dhcp = sw.inject({
      in_port: 2,
      eth_src: BigInt(`0x${MAC(2).replace(/:/g, '')}`),
      eth_dst: 0xffffffffffffn,
      eth_type: 0x0800,
      ipv4_src: 0n,
      ipv4_dst: 0xffffffffn,
      ip_proto: 17,
      udp_src: 68,
      udp_dst: 67,
    });
    assert.equal(dhcp.packetIns.length, 1);
    assert.deepEqual(send(sw, 3, ping(3, 4)), [4]);
  });

  test('a drop is traced to the filtered VM table, and allows to the group', () => {
    const r = sw.inject({ ...tcpTo(1, 2, 40002, 80), in_port: 1 });
    assert.ok(r.path.some((s) => s.tableName === 'ingress_acl' && describeCookie(s.cookie).uuid === 'sg-web'));
  });
});

describe('ICMP type and code, protocols by number', () => {
  const { sw } = model((r) => {
    r.security_groups = [
      {
        uuid: 'sg-icmp',
        rules: [
          // Echo requests of any code; "port unreachable" (3/3) only; GRE (47) and UDP by its number.
          { uuid: 'sgr-echo', direction: 'ingress', protocol: 'icmp', port_range_min: 8, port_range_max: null },
          { uuid: 'sgr-unr', direction: 'ingress', protocol: 'icmp', port_range_min: 3, port_range_max: 3 },
          { uuid: 'sgr-gre', direction: 'ingress', protocol: '47', port_range_min: null, port_range_max: null },
          { uuid: 'sgr-dns', direction: 'ingress', protocol: '17', port_range_min: 53, port_range_max: 53 },
        ],
      },
    ];
    ifc(r, 'if-veth2').security_group_uuids = ['sg-icmp'];
  });
  const icmp = (type: number, code: number) => ({ ...ping(1, 2), icmpv4_type: type, icmpv4_code: code });

  test('an ICMP rule with a type admits that type (any code, or only its code); other types are dropped', () => {
    assert.deepEqual(send(sw, 1, icmp(8, 0)), [2]);
    assert.deepEqual(send(sw, 1, icmp(8, 5)), [2]);
    assert.deepEqual(send(sw, 1, icmp(3, 3)), [2]);
    assert.deepEqual(send(sw, 1, icmp(3, 1)), []);
    assert.deepEqual(send(sw, 1, icmp(13, 0)), [], 'a timestamp request');
  });

  test('a protocol number matches that protocol (with ports for 6 and 17)', () => {
    const gre = { ...ping(1, 2), ip_proto: 47 };
    delete (gre as Record<string, unknown>).icmpv4_type;
    delete (gre as Record<string, unknown>).icmpv4_code;
    assert.deepEqual(send(sw, 1, gre), [2]);
    const udp = (dport: number) => ({ ...gre, ip_proto: 17, udp_src: 40000, udp_dst: dport });
    assert.deepEqual(send(sw, 1, udp(53)), [2]);
    assert.deepEqual(send(sw, 1, udp(54)), []);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 40000, 53)), []);
  });
});

describe('remote groups follow membership', () => {
  test('allowed from members of the remote group only, and a membership change takes effect', () => {
    const { view, c } = model((r) => {
      r.security_groups = [
        { uuid: 'sg-app', rules: [] },
        {
          uuid: 'sg-db',
          rules: [
            {
              uuid: 'sgr-db',
              direction: 'ingress',
              protocol: 'tcp',
              port_range_min: 5432,
              remote_group_uuid: 'sg-app',
            },
          ],
        },
      ];
      ifc(r, 'if-veth2').security_group_uuids = ['sg-app'];
      ifc(r, 'if-veth4').security_group_uuids = ['sg-db'];
    });
    const routed = (from: number) =>
      new SimSwitch(c.flows()).inject({
        ...tcp(MAC(from), IP[from]!, ROUTER.net1.mac, IP[4]!, 41000, 5432),
        in_port: from,
      });
    assert.deepEqual(
      routed(2).outputs.map((o) => o.port),
      [4],
    );
    assert.deepEqual(
      routed(1).outputs.map((o) => o.port),
      [],
    );
    // veth1 joins sg-app: only the security owner (and veth1's own flows: it becomes filtered) recompute.
    const i = structuredClone(view.interfaces.get('if-veth1')!) as Interface;
    i.security_group_uuids = ['sg-app'];
    const res = c.update(
      view,
      LOCAL,
      applyChange(view, { revision: 7, resource: 'interfaces', uuid: i.uuid, op: 'upsert', item: i }),
    );
    assert.deepEqual(res.recomputed.sort(), ['if:if-veth1', 'nw:nw-net1', 'sec']);
    assert.deepEqual(
      routed(1).outputs.map((o) => o.port),
      [4],
    );
  });
});

describe('filters', () => {
  // A static is written as traffic arriving at veth3 (src = the far end); the way out matches its mirror.
  const { sw } = model((r) => {
    r.filters = [
      {
        uuid: 'fil-3',
        interface_uuid: 'if-veth3',
        mode: 'static',
        ingress_passthrough: false,
        egress_passthrough: false,
        statics: [
          // veth3's own connections to port 443 anywhere (stateful); opens nothing inbound.
          { protocol: 'tcp', action: 'conn', src_port: 443 },
          // Its port 22, statelessly: requests in, replies (from port 22) out.
          { protocol: 'tcp', action: 'pass', dst_port: 22 },
          { protocol: 'icmp', action: 'pass', src_address: '172.16.2.0/24', dst_address: '0.0.0.0/0' },
          { protocol: 'ip', action: 'drop', src_address: '172.16.1.1/32', dst_address: '0.0.0.0/0' },
          { protocol: 'arp', action: 'pass' },
        ],
      },
    ];
  });

  test('conn opens only outbound connections (stateful), pass works both ways statelessly, drop wins', () => {
    // conn: veth3 → veth4:443 and its reply; veth4 → veth3:443 is not admitted by it.
    assert.deepEqual(send(sw, 3, tcpTo(3, 4, 42000, 443)), [4]);
    assert.deepEqual(send(sw, 4, tcpTo(4, 3, 443, 42000)), [3]);
    assert.deepEqual(send(sw, 4, tcpTo(4, 3, 42001, 443)), []);
    assert.deepEqual(send(sw, 3, tcpTo(3, 4, 42002, 444)), []);
    // pass dst_port 22: in to 22, out from 22 (the mirror) — and not out to someone else's 22.
    assert.deepEqual(send(sw, 4, tcpTo(4, 3, 42003, 22)), [3]);
    assert.deepEqual(send(sw, 3, tcpTo(3, 4, 22, 42003)), [4]);
    assert.deepEqual(send(sw, 3, tcpTo(3, 4, 42004, 22)), []);
    assert.deepEqual(send(sw, 4, { ...tcpTo(4, 3, 42000, 53), ip_proto: 17, udp_src: 42000, udp_dst: 53 }), []);
    // icmp from 172.16.2.0/24 in, and to it out (the mirror).
    assert.deepEqual(send(sw, 4, ping(4, 3)), [3]);
    assert.deepEqual(send(sw, 3, ping(3, 4)), [4]);
    // veth1 reaches veth3 only through the router; the drop rule names its address, both ways.
    const fromNet1 = sw.inject({ ...tcp(MAC(1), IP[1]!, ROUTER.net1.mac, IP[3]!, 42001, 22), in_port: 1 });
    assert.deepEqual(fromNet1.outputs, []);
    const toNet1 = sw.inject({ ...tcp(MAC(3), IP[3]!, ROUTER.net2.mac, IP[1]!, 42005, 443), in_port: 3 });
    assert.deepEqual(toNet1.outputs, []);
  });

  test('a stateless pass meets packets conntrack calls invalid: the echo reply to an unfiltered peer', () => {
    // OpenVNet's fil-test1: nothing committed the unfiltered veth4's ping, so its echo reply is "invalid".
    const { sw: s2 } = model((r) => {
      r.filters = [
        {
          uuid: 'fil-t1',
          interface_uuid: 'if-veth3',
          mode: 'static',
          statics: [{ protocol: 'icmp', action: 'pass' }],
        },
      ];
    });
    assert.deepEqual(send(s2, 4, ping(4, 3)), [3]);
    assert.deepEqual(send(s2, 3, { ...ping(3, 4), icmpv4_type: 0 }), [4]);
    assert.deepEqual(send(s2, 3, ping(3, 4)), [4]);
    assert.deepEqual(send(s2, 4, { ...ping(4, 3), icmpv4_type: 0 }), [3]);
    // A drop static still wins over an invalid packet's pass.
    const { sw: s3 } = model((r) => {
      r.filters = [
        {
          uuid: 'fil-t2',
          interface_uuid: 'if-veth3',
          mode: 'static',
          statics: [
            { protocol: 'icmp', action: 'pass' },
            { protocol: 'ip', action: 'drop', src_address: '172.16.2.4/32' },
          ],
        },
      ];
    });
    assert.deepEqual(send(s3, 4, { ...ping(4, 3), icmpv4_type: 0 }), []);
  });

  test('egress passthrough: the filtered VM may open connections, and their replies come back', () => {
    const { sw: open } = model((r) => {
      r.filters = [
        { uuid: 'fil-3', interface_uuid: 'if-veth3', mode: 'static', egress_passthrough: true, statics: [] },
      ];
    });
    assert.deepEqual(send(open, 3, tcpTo(3, 4, 43000, 9999)), [4]);
    assert.deepEqual(send(open, 4, tcpTo(4, 3, 9999, 43000)), [3]);
    assert.deepEqual(send(open, 4, tcpTo(4, 3, 43001, 9999)), []);
  });
});

test('port ranges decompose into value/mask blocks that cover exactly the range', () => {
  for (const [lo, hi] of [
    [80, 80],
    [8000, 8099],
    [1, 1023],
    [1024, 65535],
    [0, 65535],
  ] as const) {
    const blocks = portMasks(lo, hi);
    const covered = new Set<number>();
    for (const b of blocks) {
      const mask = b.mask === undefined ? 0xffff : Number(b.mask);
      for (let p = 0; p <= 0xffff; p++) if ((p & mask) === (Number(b.value) & mask)) covered.add(p);
    }
    assert.equal(covered.size, hi - lo + 1, `${lo}-${hi}`);
    assert.ok(covered.has(lo) && covered.has(hi));
  }
});

test('flow count grows with rules + members, not their product (100 members, 50 rules, 3 remote groups)', () => {
  const count = (members: number, rules: number) => {
    const many = seedVms();
    const r = seedResources(many);
    const ports = localFor(DP1, many);
    for (let k = 0; k < members; k++) {
      const uuid = `if-m${k}`;
      r.interfaces!.push({
        uuid,
        mode: 'vif',
        port_name: `m${k}`,
        mac_address: `02:00:00:01:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 255).toString(16).padStart(2, '0')}`,
        network_uuid: 'nw-net1',
        ipv4_address: null,
        mac_leases: [],
        security_group_uuids: ['sg-big'],
      });
      ports.ports.set(`m${k}`, { ofport: 1000 + k });
    }
    r.security_groups = [
      {
        uuid: 'sg-big',
        rules: Array.from({ length: rules }, (_, j) => ({
          uuid: `sgr-${j}`,
          direction: 'ingress' as const,
          protocol: 'tcp' as const,
          port_range_min: 1000 + j,
          port_range_max: 1000 + j,
          remote_group_uuid: `sg-r${j % 3}`,
        })),
      },
      ...[0, 1, 2].map((g) => ({ uuid: `sg-r${g}`, rules: [] })),
    ];
    // 10 members in each remote group (the seed VMs and more).
    for (let k = 0; k < 30; k++)
      r.interfaces!.push({
        uuid: `if-rg${k}`,
        mode: 'vif',
        mac_address: `02:00:00:02:00:${k.toString(16).padStart(2, '0')}`,
        network_uuid: 'nw-net2',
        ipv4_address: `172.16.2.${100 + k}`,
        mac_leases: [],
        security_group_uuids: [`sg-r${k % 3}`],
      });
    const c = new FlowCompiler();
    c.update(buildModelView(r), ports, []);
    checkFlows(c.flows());
    return c.ownerFlows('sec').length;
  };
  const base = count(100, 50);
  // rules × (1 conj flow + 1 port block) + 100 members (one merged clause flow each) + 30 remote addresses + egress.
  assert.ok(base < 100 * 2 + 50 * 2 + 30 + 10, `flows: ${base}`);
  assert.ok(count(200, 50) - base <= 2 * 100 + 1, 'members add a constant number of flows each');
  assert.ok(count(100, 100) - base <= 2 * 50 + 1, 'rules add a constant number of flows each');
});

describe('egress rules', () => {
  const { sw } = model((r) => {
    r.security_groups = [
      {
        uuid: 'sg-locked',
        rules: [
          { uuid: 'sgr-in', direction: 'ingress', protocol: 'tcp', port_range_min: 22 },
          {
            uuid: 'sgr-out',
            direction: 'egress',
            protocol: 'tcp',
            port_range_min: 443,
            remote_ip_prefix: '172.16.1.0/24',
          },
        ],
      },
    ];
    ifc(r, 'if-veth2').security_group_uuids = ['sg-locked'];
  });

  test('a group with egress rules allows only those outbound; replies to inbound still pass', () => {
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 45000, 443)), [1]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 45001, 80)), []);
    assert.deepEqual(send(sw, 2, ping(2, 1)), []);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 46000, 22)), [2]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 22, 46000)), [1]);
  });
});

describe('rule changes apply to established connections', () => {
  const web = (rules: { uuid: string; direction: 'ingress'; protocol: 'tcp'; port_range_min: number }[]) =>
    model((r) => {
      r.security_groups = [{ uuid: 'sg-web', rules }];
      ifc(r, 'if-veth2').security_group_uuids = ['sg-web'];
    });
  const http = { uuid: 'sgr-80', direction: 'ingress' as const, protocol: 'tcp' as const, port_range_min: 80 };
  const INGRESS_BLOCKED = 0x2n;
  const markOf = (sw: SimSwitch) => [...sw.conntrack.entries.values()].map((e) => e.mark);

  /** 1 → 2 tcp/80: SYN, SYN-ACK, then both directions once more (established). */
  function establish(sw: SimSwitch, sport: number): void {
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, sport, 80)), [2]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 80, sport)), [1]);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, sport, 80)), [2]);
  }

  test('a removed rule stops its established connections both ways; restoring it revives them', () => {
    const before = web([http]).sw;
    establish(before, 40100);
    // The rule goes away: the switch keeps its conntrack entries, the flows change.
    const without = new SimSwitch(web([]).c.flows(), before.conntrack);
    assert.deepEqual(send(without, 1, tcpTo(1, 2, 40100, 80)), [], 'request direction');
    assert.deepEqual(markOf(without), [INGRESS_BLOCKED]);
    assert.deepEqual(send(without, 2, tcpTo(2, 1, 80, 40100)), [], 'reply direction of a blocked connection');
    // The rule comes back while conntrack still knows the connection: it passes again and is unblocked.
    const again = new SimSwitch(web([http]).c.flows(), before.conntrack);
    assert.deepEqual(send(again, 1, tcpTo(1, 2, 40100, 80)), [2]);
    assert.deepEqual(markOf(again), [0n]);
    assert.deepEqual(send(again, 2, tcpTo(2, 1, 80, 40100)), [1]);
  });

  test('a rule that still allows the connection leaves it alone (no mark, no commit per packet)', () => {
    const { sw } = web([http]);
    establish(sw, 40101);
    const other = new SimSwitch(
      web([http, { uuid: 'sgr-22', direction: 'ingress', protocol: 'tcp', port_range_min: 22 }]).c.flows(),
      sw.conntrack,
    );
    const r = other.inject({ ...tcpTo(1, 2, 40101, 80), in_port: 1 });
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [2],
    );
    assert.ok(
      r.path.some((s) => s.tableName === 'ingress_verdict' && s.priority === 200),
      'plain allow',
    );
    assert.deepEqual(markOf(other), [0n]);
  });

  test('outbound connections of a member survive ingress rule changes', () => {
    const { sw } = web([http]);
    assert.deepEqual(send(sw, 2, tcpTo(2, 1, 50100, 22)), [1]);
    assert.deepEqual(send(sw, 1, tcpTo(1, 2, 22, 50100)), [2]);
    const without = new SimSwitch(web([]).c.flows(), sw.conntrack);
    assert.deepEqual(send(without, 2, tcpTo(2, 1, 50100, 22)), [1]);
    assert.deepEqual(send(without, 1, tcpTo(1, 2, 22, 50100)), [2]);
  });

  test('a filter drop static added later cuts an established conn connection; pass stays stateless', () => {
    const filter = (statics: Loose<FilterStatic>[]) =>
      model((r) => {
        r.filters = [{ uuid: 'fil-3', interface_uuid: 'if-veth3', mode: 'static', statics }];
      });
    // veth3's own connection to veth4:443 (conn: written as arriving from the far port 443, opened outbound).
    const conn = { protocol: 'tcp', action: 'conn', src_port: 443 } as const;
    const { sw } = filter([conn]);
    assert.deepEqual(send(sw, 3, tcpTo(3, 4, 42100, 443)), [4]);
    assert.deepEqual(send(sw, 4, tcpTo(4, 3, 443, 42100)), [3]);
    const dropped = new SimSwitch(
      filter([{ protocol: 'tcp', action: 'drop', src_address: '172.16.2.4/32' }, conn]).c.flows(),
      sw.conntrack,
    );
    assert.deepEqual(send(dropped, 3, tcpTo(3, 4, 42100, 443)), []);
    assert.deepEqual(send(dropped, 4, tcpTo(4, 3, 443, 42100)), []);
  });

  test('a remote-group member that leaves loses its established connections', () => {
    const build = (member: boolean) =>
      model((r) => {
        r.security_groups = [
          { uuid: 'sg-admin', rules: [] },
          {
            uuid: 'sg-web',
            rules: [{ uuid: 'sgr-any', direction: 'ingress', protocol: 'tcp', remote_group_uuid: 'sg-admin' }],
          },
        ];
        ifc(r, 'if-veth2').security_group_uuids = ['sg-web'];
        if (member) ifc(r, 'if-veth1').security_group_uuids = ['sg-admin'];
      });
    const { sw } = build(true);
    establish(sw, 40102);
    const left = new SimSwitch(build(false).c.flows(), sw.conntrack);
    assert.deepEqual(send(left, 1, tcpTo(1, 2, 40102, 80)), []);
    assert.deepEqual(send(left, 2, tcpTo(2, 1, 80, 40102)), []);
  });
});
