// Flows owned by a segment present on this host (OpenVNet's L2 without IP): its tunnel key (virtual) or its uplink
// (physical), L2 to its members, flood.
import type { Flow } from '../../openflow/types.js';
import { networkIds } from './addr.js';
import { apply, exact, flow, goto, loadZone, writeNetwork, VLAN_PRESENT } from './build.js';
import type { CompileContext } from './compile-context.js';
import { cookieFor } from './cookies.js';
import { parsedMacs } from './flows-interface.js';
import { deliverActions, floodFlows, type LocalPort, PRIO_NW } from './flows-network.js';
import { locate, tunnelActions } from './locate.js';
import { PromiscuousPorts } from './flows-promiscuous.js';
import { FROM_TUNNEL, FROM_UPLINK, matchFlag, matchReg, NETWORK_KEY } from './registers.js';
import { isPhysicalSegment, segmentUplinkOf, toUplink } from './uplink.js';

/**
 * A segment is switched like a virtual network with nothing above L2: its key (from the networks' key space, so
 * the pipeline's per-network tables isolate it too) is the packet's key and the tunnel key; its members' MACs are
 * delivered locally or tunnelled once to their host; broadcast and multicast (ARP included, never answered in the
 * switch: the model knows no address on a segment) reach every member. No DHCP, no routing.
 *
 * A physical segment is switched as a physical network is: never tunnelled, its members on other hosts (and the
 * machines outside) behind this host's uplink, which the segment's datapath_segments row names; frames from the
 * uplink (its VLAN tag popped, or untagged when flat) go to local ports only.
 */
export function segmentFlows(ctx: CompileContext, seg: string): Flow[] {
  ctx.dep(`segments:${seg}`);
  ctx.dep(`seg-members:${seg}`);
  const segment = ctx.view.segments.get(seg);
  if (!segment) return [];
  const { key, zone } = networkIds(segment);
  const onSegment = matchReg(NETWORK_KEY, key);
  const physical = isPhysicalSegment(segment);
  const uplink = physical ? segmentUplinkOf(ctx, segment) : null;
  // Split horizon: what came from outside (a tunnel; for a physical segment, the uplink) never goes outside again.
  const outside = physical ? FROM_UPLINK : FROM_TUNNEL;
  const fromLocal = matchFlag(outside, false);
  const cookie = (tag: 'tunnel' | 'flood' | 'uplink') => cookieFor('segment', seg, tag);
  const out: Flow[] = [];
  if (!physical)
    out.push(
      flow('tunnel_ingress', PRIO_NW.tunnelKey, cookie('tunnel'), { tunnel_id: exact(BigInt(key)) }, [
        apply(loadZone(zone)),
        writeNetwork(key),
        goto('l2_lookup'),
      ]),
    );
  if (uplink)
    out.push(
      flow(
        'uplink_ingress',
        PRIO_NW.uplinkIngress,
        cookie('uplink'),
        { in_port: exact(uplink.ofport), vlan_vid: exact(uplink.vlan === null ? 0 : VLAN_PRESENT | uplink.vlan) },
        [
          apply(...(uplink.vlan === null ? [] : [{ type: 'pop_vlan' } as const]), loadZone(zone)),
          writeNetwork(key),
          goto('l2_lookup'),
        ],
      ),
    );
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
      else if (loc.kind === 'remote' && !physical) remoteHosts.set(loc.datapathUuid, loc);
      // A physical segment's members elsewhere are behind the uplink: its to-uplink flow reaches them.
      else continue;
      promiscuous.add(i, loc, !physical);
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
  const away = uplink ? toUplink(uplink) : [];
  if (promiscuous.any) out.push(...promiscuous.unknownUnicastFlows(cookie('flood'), onSegment, outside, key, away));
  else if (uplink)
    // Unicast to no local member of a physical segment: the wire behind the uplink knows the rest.
    out.push(flow('l2_lookup', PRIO_NW.toUplink, cookie('uplink'), { ...onSegment, ...fromLocal }, [apply(...away)]));
  out.push(...floodFlows(cookie('flood'), onSegment, outside, localPorts, remoteHosts, { key, uplink: away }));
  return out;
}
