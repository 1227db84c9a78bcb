// Which networks and segments a datapath carries once a topology places it (OpenVNet's rule): a datapath a
// simple_underlay topology lists carries exactly those its datapath_networks / datapath_segments rows name — rows the
// server derives from the topologies, so removing a network from a topology withdraws it here. Any other datapath
// keeps vnet's rule: a virtual network or segment is wherever it has a port.
import type { ModelView } from './model-view.js';

/** A simple_underlay topology lists `dp` among its datapaths. */
export function placedByTopology(view: ModelView, dp: string): boolean {
  for (const t of view.topologies.values())
    if (t.mode === 'simple_underlay' && t.datapaths.some((d) => d.datapath_uuid === dp)) return true;
  return false;
}

/** Whether datapath `dp` carries network (or segment) `uuid`: always, unless a topology placed it without it. */
export function carries(view: ModelView, dp: string, kind: 'network' | 'segment', uuid: string): boolean {
  if (!placedByTopology(view, dp)) return true;
  const rows = kind === 'network' ? view.datapathNetworks : view.datapathSegments;
  return rows.has(`${dp}/${uuid}`);
}
