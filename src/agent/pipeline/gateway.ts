// Router gateways' flows: snat on the active gateway (see active-gateway.ts for which one that is), the way
// there from the other hosts, and the addresses the gateway announces on the segment.
import { lookupPriority } from './lookup-priority.js';
import type { Interface, Network } from '../../model/types.js';
import type { Flow } from '../../openflow/types.js';
import { formatIpv4, formatMac, parseCidr, prefixMask } from './addr.js';
import { apply, CS, ct, ETH_TYPE_IP, exact, flow, goto, load, loadZone, writeNetwork } from './build.js';
import { cookieFor } from './cookies.js';
import { activeGateway, answersForRouter } from './active-gateway.js';
import type { CompileContext } from './compile-context.js';
import type { Announcement } from './floating.js';
import { parsedAddresses } from './flows-interface.js';
import { tunnelActions, tunnelTo } from './locate.js';
import { prefixesOfNetwork } from './model-view.js';
import { matchReg, NETWORK_KEY, ROUTE_LINK } from './registers.js';
import { tooBigTwin, uplinkOf, VLAN_PRESENT } from './uplink.js';

/** A snat translation of a router interface, as the route link's flows need it. */
export interface Snat {
  translationUuid: string;
  /** The router interface on the external network; its address is the one connections leave from. */
  iface: Interface;
  external: Network;
  /** Conntrack zone of the gateway's connections (allocated by the server). */
  zone: number;
  /** Datapath translating now (see activeGateway); null: nowhere (the inside networks' packets out are dropped). */
  active: string | null;
}

/** The snat translation of router interface `iface` on network `net`, or null when it has none. */
export function snatOf(ctx: CompileContext, iface: Interface, net: Network): Snat | null {
  ctx.dep('any:translations');
  if (net.network_mode !== 'physical') return null;
  for (const t of ctx.view.translations.values()) {
    if (t.mode !== 'snat' || t.interface_uuid !== iface.uuid || typeof t.ct_zone !== 'number') continue;
    const active = activeGateway(ctx, net.uuid);
    // Without candidates the router's pin is its gateway.
    return {
      translationUuid: t.uuid,
      iface,
      external: net,
      zone: t.ct_zone,
      active: active === undefined ? (iface.owner_datapath_uuid ?? null) : active,
    };
  }
  return null;
}

/** A router port of a route link, as routeLinkFlows collected it. */
export interface LinkPort {
  route: { uuid: string; network_uuid: string; ipv4_network: string; ipv4_prefix: number; egress?: boolean };
  iface: Interface;
  mac: bigint;
  ips: number[];
  key: number;
  zone: number;
}

/** Priorities of the gateway's flows in tables other owners share. */
export const PRIO_GW = {
  /** tunnel_ingress: a packet still addressed to the router beats the network's plain key mapping (100). */
  fromTunnel: 110,
  /** uplink_ingress: to the gateway address, above the router MAC's routing (110), below echo answers (120). */
  fromUplink: 112,
  snat: 100,
  /** snat_result: translated packets go on; new connections that were not translated are counted and dropped. */
  translated: 100,
  refused: 90,
} as const;

/** A ct_state match: the bits of `value` set, those of `mask` not in `value` clear. */
function ctBits(value: number, mask: number = value): { value: number; mask: number } {
  return { value, mask };
}

/**
 * The flows of route link `rl`'s snat translations. On the active gateway: packets routed into the external
 * network from the link's other networks leave from the router interface's address (table snat, conntrack in
 * the translation's zone), packets other hosts tunnel here still addressed to the router enter the link's
 * lookup (those networks are added to `entries`, see gatewayEntryFlows), and packets from the segment to the
 * gateway address have the inside address restored (then table unsnat). Elsewhere: the other networks' packets
 * into the external network are tunnelled, unrouted, to the gateway — or dropped while no gateway is connected
 * (never leaving untranslated).
 */
export function snatFlows(ctx: CompileContext, rlId: number, ports: readonly LinkPort[], entries: Set<string>): Flow[] {
  const out: Flow[] = [];
  const onLink = matchReg(ROUTE_LINK, rlId);
  const done = new Set<string>();
  for (const ext of ports) {
    ctx.dep(`networks:${ext.route.network_uuid}`);
    const net = ctx.view.networks.get(ext.route.network_uuid);
    const address = ext.ips[0];
    const snat = net && address !== undefined ? snatOf(ctx, ext.iface, net) : null;
    // A router interface has a port per route it carries (e.g. its subnet and the default route): one pass each.
    if (!net || !snat || address === undefined || done.has(snat.translationUuid)) continue;
    done.add(snat.translationUuid);
    const cookie = cookieFor('translation', snat.translationUuid, 'snat');
    const inside = new Map<string, { port: LinkPort; subnets: { value: number; mask: number }[] }>();
    for (const p of ports) {
      if (p.route.network_uuid === net.uuid || inside.has(p.route.network_uuid)) continue;
      ctx.dep(`networks:${p.route.network_uuid}`);
      ctx.dep(`network-subnets:${p.route.network_uuid}`);
      const n = ctx.view.networks.get(p.route.network_uuid);
      if (n) inside.set(n.uuid, { port: p, subnets: subnetsOf(ctx, n) });
    }
    if (snat.active === ctx.local.datapathUuid) {
      const onExt = { ...onLink, ...matchReg(NETWORK_KEY, ext.key) };
      const nat = { src: address, ports: ctx.local.snatPorts };
      for (const subnet of [...inside.values()].flatMap((i) => i.subnets))
        out.push(
          flow('snat', PRIO_GW.snat, cookie, { ...onExt, eth_type: exact(ETH_TYPE_IP), ipv4_src: subnet }, [
            apply(ct({ commit: true, zone: snat.zone, nat, table: 'snat_result' })),
          ]),
        );
      // OVS's userspace conntrack lets a packet it could not translate go on untranslated (+trk+new, no +snat)
      // and counts nothing (lib/conntrack.c, 3.1): it stops here, in a flow whose packet count says how often.
      out.push(
        flow('snat_result', PRIO_GW.translated, cookie, { ...onExt, ct_state: ctBits(CS.trk | CS.snat) }, [
          goto('l2_lookup'),
        ]),
        flow(
          'snat_result',
          PRIO_GW.refused,
          cookieFor('translation', snat.translationUuid, 'snat_refused'),
          { ...onExt, ct_state: ctBits(CS.trk | CS.new, CS.trk | CS.new | CS.snat) },
          [],
        ),
      );
      for (const nw of inside.keys()) entries.add(nw);
      const up = uplinkOf(ctx, net);
      if (up) {
        const back = flow(
          'uplink_ingress',
          PRIO_GW.fromUplink,
          cookie,
          {
            in_port: exact(up.ofport),
            vlan_vid: exact(up.vlan === null ? 0 : VLAN_PRESENT | up.vlan),
            eth_dst: exact(ext.mac),
            eth_type: exact(ETH_TYPE_IP),
            ipv4_dst: exact(address),
          },
          [
            apply(
              ...(up.vlan === null ? [] : [{ type: 'pop_vlan' } as const]),
              loadZone(ext.zone),
              // Before ct: the packet that comes back from conntrack carries the registers as they are now.
              load(NETWORK_KEY, ext.key),
              ct({ zone: snat.zone, nat: 'reverse', table: 'unsnat' }),
            ),
          ],
        );
        out.push(back, tooBigTwin(back));
      }
      continue;
    }
    const there = snat.active ? tunnelTo(ctx, snat.active) : null;
    for (const dst of ports) {
      if (dst.route.network_uuid !== net.uuid || dst.route.egress === false) continue;
      const { addr, len } = parseCidr(
        `${dst.route.ipv4_network}/${dst.route.ipv4_prefix}`,
        `routes.${dst.route.uuid}.ipv4_network`,
      );
      for (const [nw, { port, subnets }] of inside) {
        if (ctx.present.get(nw) !== 'full') continue;
        for (const subnet of subnets)
          out.push(
            flow(
              'l3_lookup',
              lookupPriority(len, 'gateway'),
              cookie,
              {
                ...onLink,
                eth_type: exact(ETH_TYPE_IP),
                ipv4_src: subnet,
                ipv4_dst: len === 32 ? exact(addr) : { value: addr, mask: prefixMask(len) },
              },
              there?.kind === 'remote' ? [apply(...tunnelActions(port.key, there.ip, there.tunnelPort))] : [],
            ),
          );
      }
    }
  }
  return out;
}

/**
 * On a gateway: packets other hosts tunnel here from networks in `entries` (for snat, for floating IPs served
 * here), still addressed to the network's router MAC, enter the link's lookup instead of being switched.
 */
export function gatewayEntryFlows(rlId: number, ports: readonly LinkPort[], entries: ReadonlySet<string>): Flow[] {
  const out: Flow[] = [];
  const done = new Set<string>();
  for (const port of ports) {
    const nw = port.route.network_uuid;
    if (!entries.has(nw) || done.has(nw)) continue;
    done.add(nw);
    out.push(
      flow(
        'tunnel_ingress',
        PRIO_GW.fromTunnel,
        cookieFor('route', port.route.uuid, 'tunnel'),
        { tunnel_id: exact(BigInt(port.key)), eth_dst: exact(port.mac) },
        [apply(loadZone(port.zone), load(ROUTE_LINK, rlId)), writeNetwork(port.key), goto('l3_lookup')],
      ),
    );
  }
  return out;
}

/** Every prefix of a network (its own, then its further subnets') as OpenFlow masked match values. */
function subnetsOf(ctx: CompileContext, net: Network): { value: number; mask: number }[] {
  return prefixesOfNetwork(ctx.view, net).map((p) => {
    const { addr, len } = parseCidr(`${p.ipv4_network}/${p.ipv4_prefix}`, `networks.${net.uuid}.ipv4_network`);
    return { value: addr, mask: prefixMask(len) };
  });
}

/**
 * The router addresses this host answers for on physical segments (it is their network's active gateway, or
 * their pin without candidates) with an uplink here: announced on takeover so the segment's switches and the
 * upstream router's ARP cache follow the gateway at once. A snat translation's activity is shown by its
 * router's announcement.
 */
export function gatewayAnnouncements(ctx: CompileContext): Announcement[] {
  const out: Announcement[] = [];
  for (const u of ctx.view.routingSimulated) {
    const i = ctx.view.interfaces.get(u);
    const net = i?.network_uuid ? ctx.view.networks.get(i.network_uuid) : undefined;
    if (!i || !net || net.network_mode !== 'physical' || !answersForRouter(ctx, i, net.uuid)) continue;
    const up = uplinkOf(ctx, net);
    if (!up) continue;
    const translationUuid = snatOf(ctx, i, net)?.translationUuid ?? null;
    try {
      for (const a of parsedAddresses(i, net.uuid))
        out.push({
          translationUuid,
          address: formatIpv4(a.ip),
          mac: formatMac(a.mac),
          ofport: up.ofport,
          vlan: up.vlan,
        });
    } catch {
      // A router with malformed addresses has no flows either (its owner reported it): nothing to announce.
    }
  }
  return out;
}
