// A packet's way through the network, for `vnctl trace`: the server resolves where it starts (the interface, its
// binding, the next hop's MAC) from the model, asks the agent of that host to trace it through its own switch,
// and follows it across tunnels host by host; then says it in the model's terms.
import { ArgumentError, MissingArgument, UnknownResource } from '../model/errors.js';
import { inSubnet } from '../model/ipv4.js';
import type { TraceAsk, TraceHop, TraceLeg, TracePacket, TraceProtocol, TraceResult } from '../model/trace.js';
import type { Doc } from '../store/store.js';
import type { AgentRequests } from './agent-requests.js';
import { represent } from './represent.js';
import type { Service } from './service.js';

/** Hosts a trace follows at most (a tunnel loop would otherwise never end). */
const MAX_HOPS = 4;

export interface TraceInput {
  interface_uuid: string;
  dst: string;
  proto: TraceProtocol;
  dport?: number | undefined;
  sport?: number | undefined;
  ttl?: number | undefined;
  /** Also trace the reply back, and say which direction fails first (vnctl trace --explain). */
  explain?: boolean | undefined;
}

/** Tables whose drops are a security group's (or filter's) verdict; `ingress_*` judge the receiving port. */
const ACL_TABLES = new Set([
  'egress_ct',
  'egress_acl',
  'egress_verdict',
  'ingress_ct',
  'ingress_acl',
  'ingress_verdict',
]);

interface Start {
  packet: TracePacket;
  iface: Doc;
  datapath: Doc | null;
  /** Why the packet cannot even leave the VM (no ARP answer), when it cannot. */
  stuck: string | null;
}

export async function runTrace(service: Service, requests: AgentRequests, input: TraceInput): Promise<TraceResult> {
  const start = await resolveStart(service, input);
  const forward = await traceLeg(service, requests, start, input.interface_uuid);
  const result: TraceResult = { from_interface: input.interface_uuid, packet: start.packet, ...forward };
  if (!input.explain) return result;
  const last = forward.hops.at(-1)?.outcome;
  if (forward.result !== 'delivered' || last?.kind !== 'delivered' || !last.interface_uuid) {
    result.explanation = `${input.interface_uuid} does not reach ${input.dst}: ${forward.verdict}`;
    return result;
  }
  // The reply, from where the packet arrived, as conntrack will see it: the reply of a connection the request
  // committed (est,rpl), else — a stateless way there — a new UDP datagram, or an invalid echo reply/SYN-ACK.
  const committed = forward.hops.some((h) => h.datapath_actions.includes('ct(commit'));
  const state = committed ? 'est,rpl,trk' : input.proto === 'udp' ? 'new,trk' : 'inv,trk';
  const back = await resolveStart(service, {
    interface_uuid: last.interface_uuid,
    dst: start.packet.ip_src,
    proto: input.proto,
    sport: start.packet.dport,
    dport: start.packet.sport,
  });
  back.packet.reply = true;
  result.reply = await traceLeg(service, requests, back, last.interface_uuid, [state, state, state, state]);
  result.explanation =
    result.reply.result === 'delivered'
      ? `both ways work: ${input.interface_uuid} reaches ${last.interface_uuid}, and its reply comes back (conntrack: ${state})`
      : `${last.interface_uuid} receives it, but its reply does not come back: ${result.reply.verdict}`;
  return result;
}

/** One direction: from `from`'s port, host by host across tunnels. */
async function traceLeg(
  service: Service,
  requests: AgentRequests,
  start: Start,
  from: string,
  ctNext?: string[],
): Promise<TraceLeg> {
  if (!start.datapath)
    return {
      hops: [],
      path: [`interface ${from}`],
      verdict: `no binding for ${from}: no agent has reported it bound to a port of its bridge`,
      result: 'unbound',
    };
  if (start.stuck) return { hops: [], path: [`interface ${from}`], verdict: start.stuck, result: 'unreachable' };

  const hops: TraceHop[] = [];
  let ask: TraceAsk = {
    datapath_uuid: start.datapath.uuid,
    packet: start.packet,
    from: { interface_uuid: from },
    ...(ctNext ? { ct_next: ctNext } : {}),
  };
  let node = start.datapath.node_id as string;
  for (;;) {
    const hop = (await requests.ask(node, 'trace', ask)) as TraceHop;
    hops.push(hop);
    const out = hop.outcome;
    if (out.kind !== 'tunnel' || hops.length >= MAX_HOPS) break;
    const next = out.datapath_uuid ? await service.read((ctx) => ctx.get('datapaths', out.datapath_uuid!)) : undefined;
    if (!next) break;
    node = next.node_id as string;
    ask = {
      datapath_uuid: next.uuid,
      packet: out.packet,
      from: { tunnel: { type: out.type, src_ip: out.local_ip, dst_ip: out.remote_ip, key: out.key } },
      ...(ctNext ? { ct_next: ctNext } : {}),
    };
  }
  return { hops, path: await pathOf(service, start.iface, hops), ...(await verdictOf(service, start, hops)) };
}

/** The interface a trace starts from: given, or found by the VM's MAC or address (which must name one). */
export async function sourceInterface(
  service: Service,
  p: { interface_uuid?: unknown; src_mac?: unknown; src_ip?: unknown },
): Promise<string> {
  const given = (['interface_uuid', 'src_mac', 'src_ip'] as const).filter((k) => typeof p[k] === 'string');
  if (given.length === 0) throw new MissingArgument('interface_uuid');
  if (given.length > 1)
    throw new ArgumentError(given[1]!, `give one of interface_uuid, src_mac and src_ip, not ${given.join(' and ')}`);
  if (typeof p.interface_uuid === 'string') return p.interface_uuid;
  return service.read(async (ctx) => {
    if (typeof p.src_mac === 'string') {
      const lease = (await ctx.find('mac_leases', { mac_address: p.src_mac }))[0];
      if (!lease) throw new UnknownResource(`src_mac: no interface has the MAC ${p.src_mac}`);
      return lease.interface_uuid as string;
    }
    const leases = (await ctx.find('ip_leases', { ipv4_address: p.src_ip as string })).filter((l) => l.interface_uuid);
    if (leases.length === 0) throw new UnknownResource(`src_ip: no interface has the address ${p.src_ip}`);
    const owners = [...new Set(leases.map((l) => `${l.interface_uuid} (${l.network_uuid})`))];
    if (owners.length > 1)
      throw new ArgumentError(
        'src_ip',
        `${p.src_ip} is the address of ${owners.join(' and ')}: give interface_uuid or src_mac`,
      );
    return leases[0]!.interface_uuid as string;
  });
}

async function resolveStart(service: Service, input: TraceInput): Promise<Start> {
  return service.read(async (ctx) => {
    const doc = await ctx.must('interfaces', input.interface_uuid, 'interface_uuid');
    const iface = await represent(ctx, 'interfaces', doc);
    const mac = iface.mac_address as string | null;
    const ip = iface.ipv4_address as string | null;
    const networkUuid = iface.network_uuid as string | null;
    if (!mac) throw new ArgumentError('interface_uuid', `${doc.uuid} has no MAC address to send from`);
    if (!ip || !networkUuid) throw new ArgumentError('interface_uuid', `${doc.uuid} has no IPv4 address in a network`);
    const network = await ctx.must('networks', networkUuid);
    const packet: TracePacket = {
      eth_src: mac,
      eth_dst: 'ff:ff:ff:ff:ff:ff',
      ip_src: ip,
      ip_dst: input.dst,
      proto: input.proto,
      ttl: input.ttl ?? 64,
      ...(input.proto === 'icmp' ? {} : { sport: input.sport ?? 40000, dport: input.dport ?? 80 }),
    };
    let stuck: string | null = null;
    // The VM's next hop: the destination itself on its own network, else the network's router port. What a VM
    // would learn by ARP, looked up in the model (the switch answers ARP for both from these same records).
    const local =
      network.ipv4_network !== null &&
      inSubnet(input.dst, network.ipv4_network as string, network.ipv4_prefix as number);
    const nextHopIp = local ? input.dst : null;
    const candidates = await ctx.find('ip_leases', { network_uuid: networkUuid });
    let nextHop: Doc | undefined;
    if (nextHopIp) nextHop = candidates.find((l) => l.ipv4_address === nextHopIp);
    else {
      // A router port: an interface a route of this network names (OpenVNet's routers), or one that routes.
      const routed = new Set(
        (await ctx.find('routes')).filter((r) => r.network_uuid === networkUuid).map((r) => r.interface_uuid),
      );
      // The lease's own marks first: an interface is read only when they do not decide (a big network's VMs).
      nextHop = candidates.find((l) => routed.has(l.interface_uuid) || l.enable_routing === true);
      for (const l of nextHop ? [] : candidates)
        if ((await ctx.get('interfaces', l.interface_uuid as string))?.enable_routing === true) {
          nextHop = l;
          break;
        }
    }
    if (nextHop) {
      const macLease = await ctx.get('mac_leases', nextHop.mac_lease_uuid as string);
      if (macLease) packet.eth_dst = macLease.mac_address as string;
    } else
      stuck = local
        ? `nothing on ${networkUuid} has ${input.dst}: ${doc.uuid}'s ARP request would go unanswered`
        : `${networkUuid} has no router port: ${doc.uuid} has no way to ${input.dst}`;
    const dpUuid = doc.active_datapath_uuid as string | null;
    const datapath = dpUuid ? ((await ctx.get('datapaths', dpUuid)) ?? null) : null;
    return { packet, iface, datapath, stuck };
  });
}

/**
 * The objects the packet went through, in order, each once per stretch (flows of one object come in runs). A
 * route's flows stand for its router interface and route link; a host that tunnels the packet on names only
 * what it passed, not the remote port its l2 flow sends to (that host's part names it).
 */
async function pathOf(service: Service, from: Doc, hops: TraceHop[]): Promise<string[]> {
  const path = [`interface ${from.uuid}`];
  const push = (s: string) => {
    if (path.at(-1) !== s) path.push(s);
  };
  if (from.network_uuid) push(`network ${from.network_uuid}`);
  const routes = new Map<string, Doc>();
  for (const r of await service.read((ctx) => ctx.find('routes'))) routes.set(r.uuid, r);
  for (const hop of hops) {
    const tunnelled = hop.outcome.kind === 'tunnel';
    for (const f of hop.flows) {
      const o = f.owner;
      if (!o?.uuid || o.kind === 'datapath') continue;
      if (o.kind === 'route') {
        const r = routes.get(o.uuid);
        if (r) {
          // Into the router (its port, then the route link), or out of it (its port on the next network).
          const leaving = path.at(-1) === `route_link ${r.route_link_uuid}`;
          push(`interface ${r.interface_uuid}`);
          push(leaving ? `network ${r.network_uuid}` : `route_link ${r.route_link_uuid}`);
          continue;
        }
      }
      // The source's own flows (port security, its ACLs) are its first entry already.
      if (o.kind === 'interface' && (o.uuid === from.uuid || tunnelled)) continue;
      push(`${o.kind} ${o.uuid}`);
    }
    const o = hop.outcome;
    if (o.kind === 'tunnel')
      push(`tunnel (${o.type} key ${o.key}) from ${hop.datapath_uuid} to ${o.datapath_uuid ?? o.remote_ip}`);
    else if (o.kind === 'delivered') push(`interface ${o.interface_uuid ?? o.port}`);
    else if (o.kind === 'uplink') push(`uplink ${o.port}${o.vlan === null ? '' : ` (vlan ${o.vlan})`}`);
  }
  return path;
}

async function verdictOf(
  service: Service,
  start: Start,
  hops: TraceHop[],
): Promise<Pick<TraceResult, 'verdict' | 'result'>> {
  const last = hops.at(-1)!;
  const o = last.outcome;
  const p = start.packet;
  const what = `${p.proto}${p.dport === undefined ? '' : `/${p.dport}`} from ${p.ip_src} to ${p.ip_dst}`;
  switch (o.kind) {
    case 'delivered':
      return {
        result: 'delivered',
        verdict: `delivered to ${o.interface_uuid ?? `port ${o.port}`} on ${last.datapath_uuid}`,
      };
    case 'answered':
      return { result: 'answered', verdict: `answered by the switch of ${last.datapath_uuid} (${o.by})` };
    case 'uplink':
      return {
        result: 'left',
        verdict: `left ${last.datapath_uuid} through its uplink ${o.port} as ${o.packet.ip_src} → ${o.packet.ip_dst}`,
      };
    case 'controller':
      return { result: 'answered', verdict: `sent to the agent of ${last.datapath_uuid} (${o.reason})` };
    case 'tunnel':
      return {
        result: 'unreachable',
        verdict:
          hops.length >= MAX_HOPS
            ? `still tunnelled after ${MAX_HOPS} hosts (a loop?)`
            : `tunnelled to ${o.remote_ip}, which no datapath of the model has`,
      };
    case 'dropped': {
      const where = `${o.table_name ?? `table ${o.table}`} on ${last.datapath_uuid}`;
      if (o.table_name && ACL_TABLES.has(o.table_name)) {
        const ingress = o.table_name.startsWith('ingress');
        const subject = ingress ? lastInterfaceOwner(last) : start.iface.uuid;
        const groups = subject ? await groupsOf(service, subject) : [];
        const dir = ingress ? 'ingress' : 'egress';
        return {
          result: 'dropped',
          verdict:
            groups.length > 0
              ? `dropped by the security groups and filters of ${subject} (${groups.join(', ')}): no ${dir} rule admits ${what} (${where})`
              : `dropped by the ${dir} filter of ${subject ?? 'the port'}: nothing admits ${what} (${where})`,
        };
      }
      const by = o.owner?.uuid ? ` (flow of ${o.owner.kind} ${o.owner.uuid}, ${o.owner.tag})` : '';
      return { result: 'dropped', verdict: `dropped in ${where}${by}` };
    }
  }
}

/** The receiving port as the switch chose it: the last flow owned by an interface (l2_lookup's). */
function lastInterfaceOwner(hop: TraceHop): string | null {
  for (let i = hop.flows.length - 1; i >= 0; i--) {
    const o = hop.flows[i]!.owner;
    if (o?.kind === 'interface' && o.uuid) return o.uuid;
  }
  return null;
}

/** The security groups and filters that judge an interface's traffic. */
async function groupsOf(service: Service, ifaceUuid: string): Promise<string[]> {
  return service.read(async (ctx) => {
    const doc = await ctx.get('interfaces', ifaceUuid);
    const filters = (await ctx.find('filters', { interface_uuid: ifaceUuid })).map((f) => f.uuid);
    return [...((doc?.security_group_uuids as string[] | undefined) ?? []), ...filters];
  });
}
