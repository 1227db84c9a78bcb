// Multi-host test fabric: each datapath's computed flows in a SimSwitch; tunnel outputs are carried to the host
// whose underlay address they name, so tests follow a packet from one VM to wherever it ends up.
import { computeFlows } from '../../../src/agent/pipeline/flows.js';
import { buildModelView, type FeedResources, type ModelView } from '../../../src/agent/pipeline/model-view.js';
import { type Packet, type PacketInput, type SimResult, SimSwitch } from '../../../src/agent/pipeline/simulate.js';
import { DP_IP, GRE_PORT, localFor, type VmSpec, VXLAN_PORT } from './fixtures.js';

export interface Delivery {
  /** VM uuid that received the packet, or `host:port` for a port with no VM. */
  to: string;
  dp: string;
  packet: Packet;
}

export interface FabricResult {
  deliveries: Delivery[];
  packetIns: { dp: string; cookie: bigint; meters: number[]; packet: Packet }[];
  traces: { dp: string; result: SimResult }[];
  /** Tunnel packets sent to an address no host has. */
  lost: Packet[];
}

export class Fabric {
  readonly view: ModelView;
  readonly switches = new Map<string, SimSwitch>();
  readonly flows = new Map<string, ReturnType<typeof computeFlows>>();

  constructor(
    resources: FeedResources,
    readonly vms: VmSpec[],
    dps: string[],
    opts: { encap?: Record<string, 'gre' | 'vxlan'> } = {},
  ) {
    this.view = buildModelView(resources);
    for (const dp of dps) {
      const f = computeFlows(this.view, localFor(dp, vms, { encap: opts.encap?.[dp] ?? 'gre' }));
      this.flows.set(dp, f);
      this.switches.set(dp, new SimSwitch(f));
    }
  }

  vm(uuid: string): VmSpec {
    const v = this.vms.find((x) => x.uuid === uuid);
    if (!v) throw new Error(`no vm ${uuid}`);
    return v;
  }

  /** Ofport of a VM on its host (fixtures: the number in its uuid). */
  port(uuid: string): number {
    return Number(uuid.replace(/\D/g, ''));
  }

  /** Send a packet from VM `from` (in_port set for you) and follow it through tunnels. */
  send(from: string, pkt: PacketInput): FabricResult {
    const v = this.vm(from);
    const res: FabricResult = { deliveries: [], packetIns: [], traces: [], lost: [] };
    this.run(v.dp, { ...pkt, in_port: this.port(from) }, res, 0);
    return res;
  }

  private run(dp: string, pkt: PacketInput, res: FabricResult, hops: number): void {
    const sw = this.switches.get(dp);
    if (!sw) throw new Error(`no switch ${dp}`);
    const r = sw.inject(pkt);
    res.traces.push({ dp, result: r });
    for (const pi of r.packetIns) res.packetIns.push({ dp, cookie: pi.cookie, meters: pi.meters, packet: pi.packet });
    for (const o of r.outputs) {
      if (o.port === GRE_PORT || o.port === VXLAN_PORT) {
        if (hops > 0) throw new Error(`packet tunnelled twice (from ${dp})`);
        const dst = Object.entries(DP_IP).find(([, ip]) => ipNum(ip) === o.packet.tun_ipv4_dst)?.[0];
        if (!dst || !this.switches.has(dst)) {
          res.lost.push(o.packet);
          continue;
        }
        // The receiving host sees the inner frame and the key; pipeline state does not travel.
        const inner: PacketInput = {};
        for (const [k, val] of Object.entries(o.packet))
          if (!/^(reg\d+|metadata|tun_ipv4_dst|ct_state|ct_zone|ct_mark|in_port)$/.test(k))
            inner[k as keyof PacketInput] = val;
        inner.in_port = o.port;
        this.run(dst, inner, res, hops + 1);
        continue;
      }
      const vm = this.vms.find((x) => x.dp === dp && this.port(x.uuid) === o.port);
      res.deliveries.push({ to: vm ? vm.uuid : `${dp}:${o.port}`, dp, packet: o.packet });
    }
  }
}

export function ipNum(s: string): bigint {
  return BigInt(s.split('.').reduce((a, b) => a * 256 + Number(b), 0));
}

export function macNum(s: string): bigint {
  return BigInt(`0x${s.replace(/:/g, '')}`);
}

export const BCAST = 0xffffffffffffn;

/** An ICMP echo request from (mac, ip) to (dstMac, dstIp). */
export function icmpEcho(srcMac: string, srcIp: string, dstMac: string | bigint, dstIp: string): PacketInput {
  return {
    eth_src: macNum(srcMac),
    eth_dst: typeof dstMac === 'bigint' ? dstMac : macNum(dstMac),
    eth_type: 0x0800,
    ipv4_src: ipNum(srcIp),
    ipv4_dst: ipNum(dstIp),
    ip_proto: 1,
    icmpv4_type: 8,
    icmpv4_code: 0,
    nw_ttl: 64,
  };
}

/** An ARP request from (mac, ip) for tpa. */
export function arpRequest(srcMac: string, srcIp: string, tpa: string): PacketInput {
  return {
    eth_src: macNum(srcMac),
    eth_dst: BCAST,
    eth_type: 0x0806,
    arp_op: 1,
    arp_sha: macNum(srcMac),
    arp_spa: ipNum(srcIp),
    arp_tha: 0n,
    arp_tpa: ipNum(tpa),
  };
}

export function tcp(
  srcMac: string,
  srcIp: string,
  dstMac: string,
  dstIp: string,
  sport: number,
  dport: number,
): PacketInput {
  return {
    eth_src: macNum(srcMac),
    eth_dst: macNum(dstMac),
    eth_type: 0x0800,
    ipv4_src: ipNum(srcIp),
    ipv4_dst: ipNum(dstIp),
    ip_proto: 6,
    tcp_src: sport,
    tcp_dst: dport,
    nw_ttl: 64,
  };
}

export function dhcpDiscover(srcMac: string): PacketInput {
  return {
    eth_src: macNum(srcMac),
    eth_dst: BCAST,
    eth_type: 0x0800,
    ipv4_src: 0n,
    ipv4_dst: 0xffffffffn,
    ip_proto: 17,
    udp_src: 68,
    udp_dst: 67,
    nw_ttl: 64,
  };
}

export function ipNumber(s: string): number {
  return Number(ipNum(s));
}
