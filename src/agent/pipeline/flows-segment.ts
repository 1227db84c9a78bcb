// Flows owned by a segment present on this host (OpenVNet's L2 without IP): its tunnel key, L2 to its members, flood.
import type { Flow } from '../../openflow/types.js';
import { networkIds } from './addr.js';
import { apply, exact, flow, goto, loadZone, writeNetwork } from './build.js';
import type { CompileContext } from './compile-context.js';
import { cookieFor } from './cookies.js';
import { parsedMacs } from './flows-interface.js';
import { deliverActions, floodFlows, type LocalPort, PRIO_NW } from './flows-network.js';
import { locate, tunnelActions } from './locate.js';
import { PromiscuousPorts } from './flows-promiscuous.js';
import { FROM_TUNNEL, matchFlag, matchReg, NETWORK_KEY } from './registers.js';

/**
 * A segment is switched like a virtual network with nothing above L2: its key (from the networks' key space, so
 * the pipeline's per-network tables isolate it too) is the packet's key and the tunnel key; its members' MACs are
 * delivered locally or tunnelled once to their host; broadcast and multicast (ARP included, never answered in the
 * switch: the model knows no address on a segment) reach every member. No DHCP, no routing.
 */
export function segmentFlows(ctx: CompileContext, seg: string): Flow[] {
  ctx.dep(`segments:${seg}`);
  ctx.dep(`seg-members:${seg}`);
  const segment = ctx.view.segments.get(seg);
  if (!segment) return [];
  const { key, zone } = networkIds(segment);
  const onSegment = matchReg(NETWORK_KEY, key);
  const fromLocal = matchFlag(FROM_TUNNEL, false);
  const cookie = (tag: 'tunnel' | 'flood') => cookieFor('segment', seg, tag);
  const out: Flow[] = [
    flow('tunnel_ingress', PRIO_NW.tunnelKey, cookie('tunnel'), { tunnel_id: exact(BigInt(key)) }, [
      apply(loadZone(zone)),
      writeNetwork(key),
      goto('l2_lookup'),
    ]),
  ];
  const localPorts: LocalPort[] = [];
  const remoteHosts = new Map<string, { ip: number; tunnelPort: number }>();
  const seenMac = new Set<bigint>();
  const promiscuous = new PromiscuousPorts();
  for (const u of [...(ctx.view.membersBySegment.get(seg) ?? [])].sort()) {
    ctx.dep(`interfaces:${u}`);
    const i = ctx.view.interfaces.get(u);
    if (!i) continue;
    try {
      const loc = locate(ctx, i);
      if (loc.kind === 'local' && ctx.bindings.get(u)?.segmentUuid === seg) localPorts.push(loc);
      else if (loc.kind === 'remote') remoteHosts.set(loc.datapathUuid, loc);
      else continue;
      promiscuous.add(i, loc, true);
      const l2 = cookieFor('interface', u, 'l2');
      for (const mac of parsedMacs(i)) {
        if (seenMac.has(mac)) continue; // one MAC on two members: the first (by uuid) gets it
        seenMac.add(mac);
        out.push(
          loc.kind === 'local'
            ? flow('l2_lookup', PRIO_NW.unicast, l2, { ...onSegment, eth_dst: exact(mac) }, [
                apply(...deliverActions(loc)),
              ])
            : // Only traffic from a local port is tunnelled (split horizon), as in networks.
              flow('l2_lookup', PRIO_NW.unicast, l2, { ...onSegment, eth_dst: exact(mac), ...fromLocal }, [
                apply(...tunnelActions(key, loc.ip, loc.tunnelPort)),
              ]),
        );
      }
    } catch (err) {
      ctx.report(err);
    }
  }
  // Unicast to no MAC the model knows is for the machines behind a promiscuous port (here or on another host).
  out.push(...promiscuous.unknownUnicastFlows(cookie('flood'), onSegment, FROM_TUNNEL, key, []));
  out.push(...floodFlows(cookie('flood'), onSegment, FROM_TUNNEL, localPorts, remoteHosts, { key, uplink: [] }));
  return out;
}
