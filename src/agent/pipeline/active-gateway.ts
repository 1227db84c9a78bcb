// Router gateways: which datapath answers for the routers of a physical network (ARP for their addresses) and
// translates for them (snat). The candidates are the network's datapath_networks rows with a gateway_priority;
// the one whose agent is connected, highest priority first (then the lowest datapath uuid), is active — every
// agent picks the same one from the same model, and a dead or disconnected gateway hands over to the next.
// Without candidates a router answers on the host it is pinned to (owner_datapath_uuid) and nothing fails over.
import type { Interface } from '../../model/types.js';
import type { CompileContext } from './compile-context.js';

/** Candidate gateway datapaths of network `nw`, in order of preference. */
export function gatewayCandidates(ctx: Pick<CompileContext, 'view' | 'dep'>, nw: string): string[] {
  ctx.dep(`network-datapaths:${nw}`);
  const rows = [];
  for (const u of ctx.view.datapathsByNetwork.get(nw) ?? []) {
    ctx.dep(`datapath_networks:${u}`);
    const r = ctx.view.datapathNetworks.get(u);
    if (typeof r?.gateway_priority === 'number') rows.push(r);
  }
  rows.sort(
    (a, b) =>
      (b.gateway_priority as number) - (a.gateway_priority as number) ||
      (a.datapath_uuid < b.datapath_uuid ? -1 : a.datapath_uuid > b.datapath_uuid ? 1 : 0),
  );
  return rows.map((r) => r.datapath_uuid);
}

/**
 * The active gateway of network `nw`: the first candidate whose agent holds its switch connection (reported
 * is_connected; the server clears it when the agent's change feed drops) and whose uplink to the network is not
 * down (the agent reports an uplink without carrier down). undefined: the network has no candidates; null: none
 * of them can serve.
 */
export function activeGateway(ctx: Pick<CompileContext, 'view' | 'dep'>, nw: string): string | null | undefined {
  const candidates = gatewayCandidates(ctx, nw);
  if (candidates.length === 0) return undefined;
  for (const dp of candidates) {
    ctx.dep(`liveness:${dp}`);
    if (ctx.view.datapaths.get(dp)?.is_connected !== true) continue;
    // Its uplink to the network, when the row names one, must not be reported down (no carrier).
    const uplink = ctx.view.datapathNetworks.get(`${dp}/${nw}`)?.interface_uuid;
    if (uplink) {
      ctx.dep(`link:${uplink}`);
      if (ctx.view.interfaces.get(uplink)?.status === 'down') continue;
    }
    return dp;
  }
  return null;
}

/** Whether this host answers ARP for router interface `iface` on network `nw`: the active gateway, else its pin. */
export function answersForRouter(ctx: CompileContext, iface: Interface, nw: string): boolean {
  const active = activeGateway(ctx, nw);
  if (active === undefined) return iface.owner_datapath_uuid === ctx.local.datapathUuid;
  return active === ctx.local.datapathUuid;
}
