// Flows owned by a route link: distributed routing at the source host and ICMP echo answers for router addresses.
import type { Action, Flow } from '../../openflow/types.js';
import { networkIds, PipelineModelError, parseCidr, parseIpv4, parseMac, prefixMask } from './addr.js';
import {
  apply,
  ETH_TYPE_IP,
  exact,
  flow,
  goto,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  load,
  loadZone,
  setField,
  writeNetwork,
} from './build.js';
import { cookieFor, objectHash } from './cookies.js';
import type { CompileContext } from './compile-context.js';
import { inNetwork, placedFloatingIps, portVariants } from './floating.js';
import { gatewayEntryFlows, type LinkPort, snatFlows } from './gateway.js';
import { lookupPriority } from './lookup-priority.js';
import { tunnelActions, tunnelTo } from './locate.js';
import { parsedAddresses, parsedMacs } from './flows-interface.js';
import { matchReg, NETWORK_KEY, ROUTE_LINK, routeLinkId } from './registers.js';
import type { Route } from '../../model/types.js';
import { routesOfLink } from './model-view.js';
import { echoReplyActions } from './replies.js';

export const PRIO_RL = {
  /** l3_routing: a network's router MAC selects its link. */
  link: 100,
  /** l3_lookup: echo answers beat every route and translation (lookupPriority ≤ 230). */
  echo: 300,
} as const;

interface RouterPort extends LinkPort {
  route: Route;
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
  const rlId = routeLinkId(objectHash(rl));
  const onLink = matchReg(ROUTE_LINK, rlId);
  const seen = new Set<string>();
  // Step 1 (l3_routing): per network that sends here, its router MAC selects the link.
  for (const src of ports) {
    if (ctx.present.get(src.route.network_uuid) !== 'full' || src.route.ingress === false) continue;
    const k = `in/${src.key}/${src.mac}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(
      flow(
        'l3_routing',
        PRIO_RL.link,
        cookieFor('route', src.route.uuid, 'routing'),
        { ...matchReg(NETWORK_KEY, src.key), eth_dst: exact(src.mac), eth_type: exact(ETH_TYPE_IP) },
        [apply(load(ROUTE_LINK, rlId)), goto('l3_lookup')],
      ),
    );
  }
  if (seen.size === 0) return out;
  // Step 2 (l3_lookup), per link: ICMP echo to any router address on it is answered here (OpenVNet never
  // answered it), above the routes that would otherwise carry it into the router's network.
  const ips = [...new Set(ports.flatMap((p) => p.ips))];
  for (const ip of ips.sort((a, b) => a - b)) {
    const owner = ports.find((p) => p.ips.includes(ip))!;
    out.push(
      flow(
        'l3_lookup',
        PRIO_RL.echo,
        cookieFor('interface', owner.iface.uuid, 'icmp'),
        {
          ...onLink,
          eth_type: exact(ETH_TYPE_IP),
          ip_proto: exact(IPPROTO_ICMP),
          icmpv4_type: exact(ICMP_ECHO_REQUEST),
          ipv4_dst: exact(ip),
        },
        [apply(...echoReplyActions(ip))],
      ),
    );
  }
  // Routes: longest prefix wins (lookupPriority).
  for (const dst of ports) {
    if (dst.route.egress === false) continue;
    const { addr, len } = parseCidr(
      `${dst.route.ipv4_network}/${dst.route.ipv4_prefix}`,
      `routes.${dst.route.uuid}.ipv4_network`,
    );
    const k = `route/${addr}/${len}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const hop = nextHopMac(ctx, dst.route);
    if (hop === null) continue; // reported: the next hop is no known address of the network
    out.push(
      flow(
        'l3_lookup',
        lookupPriority(len, 'route'),
        cookieFor('route', dst.route.uuid, 'routing'),
        {
          ...onLink,
          eth_type: exact(ETH_TYPE_IP),
          ipv4_dst: len === 32 ? exact(addr) : { value: addr, mask: prefixMask(len) },
        },
        [
          // dec_ttl drops a packet whose TTL runs out (no packet-in unless the controller asked for them).
          apply(setField('eth_src', sourceMac(ctx, dst)), { type: 'dec_ttl' }, loadZone(dst.zone), ...toHop(hop)),
          writeNetwork(dst.key),
          goto(hop === undefined ? 'l3_neighbor' : 'snat'),
        ],
      ),
    );
  }
  // Router gateways with snat on this link (on the active gateway, and the way there from elsewhere).
  const entries = new Set<string>();
  out.push(...snatFlows(ctx, rlId, ports, entries));
  // Floating IPs served here (of VMs here with the uplink; of VMs elsewhere as their gateway): into the physical
  // network holding the floating address, their packets leave from that address with the VM's own MAC (the one
  // the segment learned for it), not the router's. A VM here whose floating IP a gateway serves sends them there.
  for (const fip of placedFloatingIps(ctx)) {
    const mine = fip.servedBy === ctx.local.datapathUuid;
    const viaGateway = !mine && fip.servedBy !== null && fip.vmDatapath === ctx.local.datapathUuid;
    if ((!mine && !viaGateway) || !ports.some((p) => p.route.network_uuid === fip.vmNetwork)) continue;
    if (mine && fip.vmDatapath !== ctx.local.datapathUuid) entries.add(fip.vmNetwork);
    const there = viaGateway ? tunnelTo(ctx, fip.servedBy!) : null;
    const vmPort = ports.find((p) => p.route.network_uuid === fip.vmNetwork)!;
    for (const dst of ports) {
      const dnet = ctx.view.networks.get(dst.route.network_uuid);
      if (dnet?.network_mode !== 'physical' || dst.route.egress === false || !inNetwork(dnet, fip.floating)) continue;
      const { addr, len } = parseCidr(
        `${dst.route.ipv4_network}/${dst.route.ipv4_prefix}`,
        `routes.${dst.route.uuid}.ipv4_network`,
      );
      const cookie = cookieFor('interface', fip.iface.uuid, 'routing');
      const priority = lookupPriority(len, fip.ports ? 'floatingPort' : 'floating');
      const hop = viaGateway ? undefined : nextHopMac(ctx, dst.route);
      if (hop === null) continue;
      // A port translation: only the VM's translated port (TCP and UDP) leaves from the outside address and port.
      for (const v of portVariants(fip, 'outbound')) {
        const match = {
          ...onLink,
          eth_type: exact(ETH_TYPE_IP),
          ipv4_src: exact(fip.fixed),
          ipv4_dst: len === 32 ? exact(addr) : { value: addr, mask: prefixMask(len) },
          ...v.match,
        };
        if (viaGateway) {
          // Unrouted, still addressed to the router, with the VM network's key: the gateway translates it.
          const to = there?.kind === 'remote' ? [apply(...tunnelActions(vmPort.key, there.ip, there.tunnelPort))] : [];
          out.push(flow('l3_lookup', priority, cookie, match, to));
          continue;
        }
        out.push(
          flow('l3_lookup', priority, cookie, match, [
            apply(
              setField('eth_src', fip.mac),
              setField('ipv4_src', fip.floating),
              ...v.set,
              { type: 'dec_ttl' },
              loadZone(dst.zone),
              ...toHop(hop),
            ),
            writeNetwork(dst.key),
            goto(hop === undefined ? 'l3_neighbor' : 'l2_lookup'),
          ]),
        );
      }
    }
  }
  out.push(...gatewayEntryFlows(rlId, ports, entries));
  return out;
}

/**
 * The source MAC of packets routed into `dst`'s network from this host: the router's, except on a physical
 * network whose datapath_networks row gives this host its own MAC there (OpenVNet's per-datapath MAC) — then
 * the segment's switches see the router MAC only where it answers ARP, never moving between hosts' uplinks.
 */
function sourceMac(ctx: CompileContext, dst: RouterPort): bigint {
  const net = ctx.view.networks.get(dst.route.network_uuid);
  if (net?.network_mode !== 'physical') return dst.mac;
  const row = `${ctx.local.datapathUuid}/${net.uuid}`;
  ctx.dep(`datapath_networks:${row}`);
  const mac = ctx.view.datapathNetworks.get(row)?.mac_address;
  return mac ? parseMac(mac, `datapath_networks.${row}.mac_address`) : dst.mac;
}

/**
 * The MAC of a route's next hop (`gateway_ipv4_address`), found among the members of the route's network (e.g.
 * the upstream router, registered as a mode=remote interface); undefined when the route has no next hop, null
 * (reported) when no member has that address.
 */
function nextHopMac(ctx: CompileContext, route: Route): bigint | null | undefined {
  const gw = route.gateway_ipv4_address;
  if (!gw) return undefined;
  const ip = parseIpv4(gw, `routes.${route.uuid}.gateway_ipv4_address`);
  ctx.dep(`members:${route.network_uuid}`);
  for (const u of [...(ctx.view.membersByNetwork.get(route.network_uuid) ?? [])].sort()) {
    ctx.dep(`interfaces:${u}`);
    const i = ctx.view.interfaces.get(u);
    const hit = i ? parsedAddresses(i, route.network_uuid).find((a) => a.ip === ip) : undefined;
    if (hit) return hit.mac;
  }
  ctx.report(
    new PipelineModelError(`routes.${route.uuid}.gateway_ipv4_address`, gw, 'no interface of the network has it'),
  );
  return null;
}

/** Straight to the next hop: its MAC as destination (then l2_lookup), instead of resolving the final address. */
function toHop(hop: bigint | undefined): Action[] {
  return hop === undefined ? [] : [setField('eth_dst', hop)];
}
