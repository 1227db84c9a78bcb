// Flows owned by a route link: distributed routing at the source host and ICMP echo answers for router addresses.
import type { Action, Flow } from '../../openflow/types.js';
import { networkIds, parseCidr, prefixMask } from './addr.js';
import {
  apply,
  ETH_TYPE_IP,
  exact,
  flow,
  goto,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  loadZone,
  move,
  output,
  setField,
  whole,
  writeNetwork,
} from './build.js';
import { cookieFor } from './cookies.js';
import type { CompileContext } from './flows.js';
import { parsedAddresses, parsedMacs } from './flows-interface.js';
import { matchNetworkKey } from './registers.js';
import { type InterfaceRes, type RouteRes, routesOfLink } from './model-view.js';
import { OFPP } from '../../openflow/types.js';

export const PRIO_RL = {
  /** Routing priority = base + prefix length: the longest prefix wins. */
  routeBase: 100,
  echo: 100,
} as const;

/** In-switch ICMP echo reply from router address `ip` with MAC `mac`, back out of in_port. */
export function echoReplyActions(mac: bigint, ip: number): Action[] {
  return [
    move(whole('eth_src', 48), whole('eth_dst', 48)),
    setField('eth_src', mac),
    move(whole('ipv4_src', 32), whole('ipv4_dst', 32)),
    setField('ipv4_src', ip),
    setField('icmpv4_type', ICMP_ECHO_REPLY),
    output(OFPP.IN_PORT),
  ];
}

interface RouterPort {
  route: RouteRes;
  iface: InterfaceRes;
  mac: bigint;
  /** Router addresses of this interface in the route's network. */
  ips: number[];
  key: number;
  zone: number;
}

export function routeLinkFlows(ctx: CompileContext, rl: string): Flow[] {
  ctx.dep(`route_links:${rl}`);
  ctx.dep(`link-routes:${rl}`);
  const ports: RouterPort[] = [];
  for (const route of routesOfLink(ctx.view, rl)) {
    ctx.dep(`routes:${route.uuid}`);
    ctx.dep(`interfaces:${route.interface_uuid}`);
    ctx.dep(`networks:${route.network_uuid}`);
    ctx.dep(`present:${route.network_uuid}`);
    const iface = ctx.view.interfaces.get(route.interface_uuid);
    const net = ctx.view.networks.get(route.network_uuid);
    if (!iface || !net) continue;
    try {
      const mac = parsedMacs(iface)[0];
      if (mac === undefined) continue;
      const ips = parsedAddresses(iface, route.network_uuid).map((a) => a.ip);
      ports.push({ route, iface, mac, ips, ...networkIds(net) });
    } catch (err) {
      // A router port with bad data drops out of the link; the other networks keep routing.
      ctx.report(err);
    }
  }

  const out: Flow[] = [];
  const seen = new Set<string>();
  const allRouterIps = [...new Set(ports.flatMap((p) => p.ips))].sort((a, b) => a - b);
  for (const src of ports) {
    // Only networks with local ports send packets into routing on this host.
    if (ctx.present.get(src.route.network_uuid) !== 'full' || src.route.ingress === false) continue;
    const meta = matchNetworkKey(src.key);
    // ICMP echo to any router address on the link, sent to this network's router MAC, is answered here
    // with the router MAC the VM addressed (OpenVNet never answered it).
    for (const ip of allRouterIps) {
      const k = `echo/${src.key}/${src.mac}/${ip}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(
        flow(
          'services',
          PRIO_RL.echo,
          cookieFor('interface', src.iface.uuid, 'icmp'),
          {
            metadata: meta,
            eth_dst: exact(src.mac),
            eth_type: exact(ETH_TYPE_IP),
            ip_proto: exact(IPPROTO_ICMP),
            ipv4_dst: exact(ip),
            icmpv4_type: exact(ICMP_ECHO_REQUEST),
          },
          [apply(...echoReplyActions(src.mac, ip))],
        ),
      );
    }
    for (const dst of ports) {
      if (dst === src || dst.route.network_uuid === src.route.network_uuid || dst.route.egress === false) continue;
      const { addr, len } = parseCidr(
        `${dst.route.ipv4_network}/${dst.route.ipv4_prefix}`,
        `routes.${dst.route.uuid}.ipv4_network`,
      );
      const k = `route/${src.key}/${src.mac}/${addr}/${len}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(
        flow(
          'l3_routing',
          PRIO_RL.routeBase + len,
          cookieFor('route', dst.route.uuid, 'routing'),
          {
            metadata: meta,
            eth_dst: exact(src.mac),
            eth_type: exact(ETH_TYPE_IP),
            ipv4_dst: len === 32 ? exact(addr) : { value: addr, mask: prefixMask(len) },
          },
          [
            // dec_ttl drops a packet whose TTL runs out (no packet-in unless the controller asked for them).
            apply(setField('eth_src', dst.mac), { type: 'dec_ttl' }, loadZone(dst.zone)),
            writeNetwork(dst.key),
            goto('l3_neighbor'),
          ],
        ),
      );
    }
  }
  return out;
}
