// One host's part of a trace: the packet the server describes, as a flow ofproto/trace takes; and what the
// switch's answer says, in the model's terms (each flow's table by name and the API object its cookie names,
// and how the packet left: to a VM, through a tunnel to which datapath, out of an uplink, or where it was dropped).
import type { TraceAsk, TraceFlowHit, TraceHop, TraceOutcome, TraceOwner, TracePacket } from '../../model/trace.js';
import type { OfprotoTrace } from '../../unixctl/index.js';
import { describeCookie } from '../pipeline/cookies.js';
import { type Binding, type ModelView, tunnelAddress } from '../pipeline/model-view.js';
import { tableName } from '../pipeline/tables.js';
import type { BridgePort } from '../runtime/deps.js';

/** The request cannot be traced here (a port that is not on this bridge): the server says why. */
export class TraceRefused extends Error {}

export interface HopContext {
  bridge: string;
  datapathUuid: string;
  nodeId: string;
  ports: readonly BridgePort[];
  /** The bridge's tunnel ports (ofports), as the agent's local context has them. */
  tunnelPorts: { gre: number | null; vxlan: number | null };
  bound: readonly Binding[];
  view: ModelView;
}

/** The packet's fields in ovs-ofctl flow syntax (what ofproto/trace parses). */
function packetFields(p: TracePacket): string {
  // A request: an echo request, a SYN; a reply: an echo reply, a SYN-ACK.
  const l4 =
    p.proto === 'icmp'
      ? `icmp_type=${p.reply ? 0 : 8},icmp_code=0`
      : `tp_src=${p.sport ?? 40000},tp_dst=${p.dport ?? 80}${p.proto === 'tcp' ? `,tcp_flags=${p.reply ? '0x012' : '0x002'}` : ''}`;
  return `${p.proto},dl_src=${p.eth_src},dl_dst=${p.eth_dst},nw_src=${p.ip_src},nw_dst=${p.ip_dst},nw_ttl=${p.ttl},${l4}`;
}

/** The flow to trace: the packet entering at the interface's port, or from a tunnel with its key and addresses. */
export function traceFlow(ask: TraceAsk, ctx: HopContext): string {
  if ('interface_uuid' in ask.from) {
    const uuid = ask.from.interface_uuid;
    const b = ctx.bound.find((x) => x.interfaceUuid === uuid);
    if (!b) throw new TraceRefused(`${uuid} is not bound to a port of ${ctx.bridge} on node ${ctx.nodeId}`);
    return `in_port=${b.ofport},${packetFields(ask.packet)}`;
  }
  const t = ask.from.tunnel;
  const ofport = ctx.tunnelPorts[t.type];
  if (ofport === null) throw new TraceRefused(`${ctx.bridge} has no ${t.type} tunnel port`);
  return `in_port=${ofport},tun_id=${t.key},tun_src=${t.src_ip},tun_dst=${t.dst_ip},${packetFields(ask.packet)}`;
}

const ownerOf = (cookie: bigint | null): TraceOwner | null => {
  if (cookie === null) return null;
  const d = describeCookie(cookie);
  if (d.kind === 'unknown') return null;
  return { kind: d.kind, uuid: d.uuid, tag: d.tag };
};

/** The packet as the trace's final flow shows it (after rewrites), on top of what was sent. */
function packetAfter(flow: string | null, sent: TracePacket): TracePacket {
  if (!flow) return sent;
  const field = (k: string) => new RegExp(`(?:^|,)${k}=([^,]+)`).exec(flow)?.[1];
  const n = (k: string) => {
    const v = field(k);
    return v === undefined ? undefined : Number(v);
  };
  return {
    ...sent,
    eth_src: field('dl_src') ?? sent.eth_src,
    eth_dst: field('dl_dst') ?? sent.eth_dst,
    ip_src: field('nw_src') ?? sent.ip_src,
    ip_dst: field('nw_dst') ?? sent.ip_dst,
    ttl: n('nw_ttl') ?? sent.ttl,
    ...(sent.proto === 'icmp' ? {} : { sport: n('tp_src') ?? sent.sport, dport: n('tp_dst') ?? sent.dport }),
  };
}

/** The datapath whose tunnel endpoint is `ip`, as this host's model knows it. */
function datapathAt(view: ModelView, ip: string): string | null {
  for (const dp of view.datapaths.values()) if (tunnelAddress(view, dp) === ip) return dp.uuid;
  return null;
}

/** Reads the switch's trace of `ask` into this host's hop. */
export function hopOf(trace: OfprotoTrace, ask: TraceAsk, ctx: HopContext): TraceHop {
  const flows: TraceFlowHit[] = trace.steps.map((s) => {
    const mine = s.bridge === ctx.bridge;
    return {
      bridge: s.bridge,
      table: s.table,
      table_name: mine ? (tableName(s.table) ?? null) : null,
      priority: s.priority,
      cookie: s.noMatch || s.cookie === null ? null : `0x${s.cookie.toString(16)}`,
      owner: mine ? ownerOf(s.noMatch ? null : s.cookie) : null,
      match: s.noMatch ? '(no match)' : s.match,
      actions: s.actions,
    };
  });
  return {
    datapath_uuid: ctx.datapathUuid,
    node_id: ctx.nodeId,
    flows,
    outcome: outcomeOf(trace, ask, ctx, flows),
    // One line per pass: the first translation, then each recirculation (conntrack) it resumed.
    datapath_actions: trace.passes.map((p) => p.datapathActions).join(' | '),
  };
}

function outcomeOf(trace: OfprotoTrace, ask: TraceAsk, ctx: HopContext, flows: TraceFlowHit[]): TraceOutcome {
  const mine = flows.filter((f) => f.bridge === ctx.bridge);
  // The packet as it left: the last pass's final flow (after NAT and rewrites in recirculations).
  const after = packetAfter(trace.passes.at(-1)?.finalFlow ?? trace.finalFlow, ask.packet);
  if (trace.tunnel) {
    const t = trace.tunnel;
    const type = t.type === 'vxlan' ? 'vxlan' : 'gre';
    const local = t.src ?? tunnelAddress(ctx.view, ctx.view.datapaths.get(ctx.datapathUuid)!) ?? '';
    return {
      kind: 'tunnel',
      type,
      local_ip: local,
      remote_ip: t.dst,
      key: t.key ?? 0,
      datapath_uuid: datapathAt(ctx.view, t.dst),
      packet: after,
    };
  }
  const unresolved = pipelineTunnel(mine, ctx);
  if (unresolved) {
    // The pipeline chose a tunnel, but OVS's native tunnel has no neighbour entry for the remote host yet (no
    // packet has crossed since it started): the trace shows a drop where a real packet is sent once ARP
    // resolves. Report the pipeline's choice.
    return {
      kind: 'tunnel',
      ...unresolved,
      local_ip: tunnelAddress(ctx.view, ctx.view.datapaths.get(ctx.datapathUuid)!) ?? '',
      datapath_uuid: datapathAt(ctx.view, unresolved.remote_ip),
      packet: after,
    };
  }
  if (trace.toController) {
    const by = [...mine].reverse().find((f) => f.actions.some((a) => a.startsWith('CONTROLLER')));
    return { kind: 'controller', reason: by?.table_name ?? 'a packet-in' };
  }
  if (!trace.dropped) {
    // Which OpenFlow port the pipeline chose (the datapath's port numbers are another numbering).
    for (let i = mine.length - 1; i >= 0; i--) {
      const f = mine[i]!;
      for (const a of f.actions) {
        if (a === 'IN_PORT' || a === 'output:IN_PORT' || a === 'in_port')
          return { kind: 'answered', by: `${f.table_name ?? `table ${f.table}`} of ${describe(f.owner)}` };
        const m = /^output:(\d+)$/.exec(a);
        if (!m) continue;
        const ofport = Number(m[1]);
        const b = ctx.bound.find((x) => x.ofport === ofport);
        const port = ctx.ports.find((p) => p.ofport === ofport);
        const name = b?.portName ?? port?.name ?? `ofport ${ofport}`;
        if (b && !isHostPort(ctx.view, b.interfaceUuid))
          return { kind: 'delivered', interface_uuid: b.interfaceUuid, port: name };
        const vlan = /push_vlan\(vid=(\d+)/.exec(trace.passes.map((p) => p.datapathActions).join(','));
        return { kind: 'uplink', port: name, vlan: vlan ? Number(vlan[1]) : null, packet: after };
      }
    }
  }
  const last = mine.at(-1) ?? null;
  return {
    kind: 'dropped',
    table: last?.table ?? null,
    table_name: last?.table_name ?? null,
    owner: last?.owner ?? null,
  };
}

/** A tunnel the pipeline's own actions chose (set tun_dst and tun_id, output to a tunnel port), if any. */
function pipelineTunnel(
  mine: TraceFlowHit[],
  ctx: HopContext,
): { type: 'gre' | 'vxlan'; remote_ip: string; key: number } | null {
  for (const f of mine) {
    const dst = f.actions.map((a) => /^set_field:([\d.]+)->tun_dst$/.exec(a)?.[1]).find(Boolean);
    if (!dst) continue;
    const key = f.actions.map((a) => /^set_field:(0x[0-9a-f]+|\d+)->tun_id$/.exec(a)?.[1]).find(Boolean);
    const out = Number(f.actions.map((a) => /^output:(\d+)$/.exec(a)?.[1]).find(Boolean));
    const type = out === ctx.tunnelPorts.vxlan ? 'vxlan' : out === ctx.tunnelPorts.gre ? 'gre' : null;
    if (type) return { type, remote_ip: dst, key: key ? Number(key) : 0 };
  }
  return null;
}

const isHostPort = (view: ModelView, uuid: string) => view.interfaces.get(uuid)?.mode === 'host';
const describe = (o: TraceOwner | null) => (o ? `${o.kind} ${o.uuid ?? '?'}` : 'the pipeline');

/**
 * The --ct-next states to trace `trace`'s packet again with, or null when it needs none: ofproto/trace (OVS 3.1)
 * simulates a ct(nat(…)) by rewriting the packet but resumes without the +snat/+dnat conntrack would set, so a
 * pipeline that checks them (snat_result) would see every translation as refused. Each conntrack resume that
 * rewrote the source gets `snat`, the destination `dnat`, on top of the state it had.
 */
export function natCtNext(trace: OfprotoTrace): string[] | null {
  const states: string[] = [];
  let added = false;
  for (const r of trace.recirculations) {
    if (r.ctState === null) continue;
    const bits = r.ctState.split(/[|,]/).filter((b) => b !== '');
    if (r.nat) {
      const field = (flow: string, k: string) => new RegExp(`(?:^|,)${k}=([^,]+)`).exec(flow)?.[1];
      for (const [k, bit] of [
        ['nw_src', 'snat'],
        ['nw_dst', 'dnat'],
      ] as const)
        if (field(r.nat.initial, k) !== field(r.nat.modified, k) && !bits.includes(bit)) {
          bits.push(bit);
          added = true;
        }
    }
    states.push(bits.join(','));
  }
  return added ? states : null;
}
