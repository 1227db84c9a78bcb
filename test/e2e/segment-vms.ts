// Shared by the segment e2e tests: a VM on a segment (it sets its own address) and the failure report that
// follows an echo from it through its host's switch.
import type { Cluster } from '../../src/demo/cluster.js';

export interface SegVm {
  name: string;
  uuid: string;
  segment: string;
  host: string;
  mac: string;
  ip: string;
}

/** Flows, agent logs (cluster.diagnostics) and an ofproto/trace of an echo from `from` to `dstIp` on its host. */
export async function segmentReport(
  cluster: Cluster,
  vms: readonly SegVm[],
  from: SegVm,
  dstIp: string,
): Promise<string> {
  const parts = [await cluster.diagnostics()];
  try {
    const host = cluster.lab.host(from.host);
    const ofport = (await host.vsctl('get', 'Interface', from.uuid, 'ofport')).trim();
    const dst = vms.find((v) => v.segment === from.segment && v.ip === dstIp)?.mac ?? 'ff:ff:ff:ff:ff:ff';
    const flow = `in_port=${ofport},icmp,dl_src=${from.mac},dl_dst=${dst},nw_src=${from.ip},nw_dst=${dstIp},nw_ttl=64,icmp_type=8`;
    parts.push(`--- ofproto/trace ${from.host} ${flow}\n${await cluster.lab.trace(from.host, flow)}`);
  } catch (err) {
    parts.push(`--- trace failed: ${String(err)}`);
  }
  return parts.join('\n');
}
