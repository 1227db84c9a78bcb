// How `vnctl trace` prints a TraceResult for people: the way in the model's terms and the verdict, then each
// host's part (with --flows, every OpenFlow flow hit: table number and name, priority, cookie and its owner).
import type { TraceFlowHit, TraceHop, TraceLeg, TraceOutcome, TraceResult } from '../../model/trace.js';

function outcomeLine(o: TraceOutcome): string {
  switch (o.kind) {
    case 'delivered':
      return `delivered to ${o.interface_uuid ?? 'port'} (port ${o.port})`;
    case 'answered':
      return `answered by the switch: ${o.by}`;
    case 'tunnel':
      return `tunnelled (${o.type}, key ${o.key}) ${o.local_ip} → ${o.remote_ip}${o.datapath_uuid ? ` (${o.datapath_uuid})` : ''} as ${o.packet.ip_src} → ${o.packet.ip_dst}`;
    case 'uplink':
      return `out of uplink ${o.port}${o.vlan === null ? '' : ` on vlan ${o.vlan}`} as ${o.packet.ip_src} → ${o.packet.ip_dst}`;
    case 'controller':
      return `sent to the agent (${o.reason})`;
    case 'dropped':
      return `dropped in ${o.table_name ?? `table ${o.table}`}${o.owner?.uuid ? ` (flow of ${o.owner.kind} ${o.owner.uuid})` : ''}`;
  }
}

function flowLines(f: TraceFlowHit): string[] {
  const table = `${f.bridge === 'br-phy' ? `${f.bridge} ` : ''}table ${f.table}${f.table_name ? ` ${f.table_name}` : ''}`;
  const owner = f.owner
    ? `${f.owner.kind}${f.owner.uuid ? ` ${f.owner.uuid}` : ''}${f.owner.tag === 'none' ? '' : ` (${f.owner.tag})`}`
    : '';
  const head = [
    table,
    f.priority === null ? null : `priority ${f.priority}`,
    f.cookie ? `cookie ${f.cookie}` : null,
    owner || null,
  ]
    .filter(Boolean)
    .join('  ');
  const out = [`    ${head}`, `        match   ${f.match || '(any)'}`];
  if (f.actions.length > 0) out.push(`        actions ${f.actions.join(', ')}`);
  return out;
}

function hopLines(h: TraceHop, withFlows: boolean): string[] {
  const out = [`  ${h.datapath_uuid} (node ${h.node_id}): ${outcomeLine(h.outcome)}`];
  if (withFlows) {
    for (const f of h.flows) out.push(...flowLines(f));
    out.push(`    datapath actions: ${h.datapath_actions}`);
  }
  return out;
}

function legLines(l: TraceLeg, withFlows: boolean): string[] {
  return [
    `path:    ${l.path.join(' → ')}`,
    `verdict: ${l.result}: ${l.verdict}`,
    ...(l.hops.length > 0 ? ['hosts:', ...l.hops.flatMap((h) => hopLines(h, withFlows))] : []),
  ];
}

export function formatTrace(r: TraceResult, withFlows: boolean): string {
  const p = r.packet;
  const ports = p.dport === undefined ? '' : ` ${p.sport} → ${p.dport}`;
  return `${[
    `${r.from_interface}: ${p.proto}${ports} ${p.ip_src} (${p.eth_src}) → ${p.ip_dst} (next hop ${p.eth_dst}), ttl ${p.ttl}`,
    ...legLines(r, withFlows),
    ...(r.reply ? ['reply:', ...legLines(r.reply, withFlows).map((l) => `  ${l}`)] : []),
    ...(r.explanation ? [`explain: ${r.explanation}`] : []),
  ].join('\n')}\n`;
}
