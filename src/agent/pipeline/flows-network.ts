// Flows owned by a network present on this host: tunnel key mapping, ARP answers, DHCP and DNS punts, neighbours, L2.
import type { Action, FieldRange, Flow, Match } from '../../openflow/types.js';
import { MAC_MULTICAST_BIT, networkIds } from './addr.js';
import {
  apply,
  DHCP_CLIENT_PORT,
  DHCP_SERVER_PORT,
  ETH_TYPE_IP,
  exact,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
  flow,
  goto,
  IPPROTO_UDP,
  loadOutPort,
  loadZone,
  output,
  resubmit,
  setField,
  writeNetwork,
  OFPCML_NO_BUFFER,
} from './build.js';
import { cookieFor, pipelineCookie } from './cookies.js';
import type { CompileContext } from './compile-context.js';
import { parsedAddresses, parsedMacs } from './flows-interface.js';
import { answersForRouter } from './active-gateway.js';
import { locate, tunnelActions } from './locate.js';
import { PromiscuousPorts } from './flows-promiscuous.js';
import { inNetwork, placedFloatingIps, portVariants, routerMacOf } from './floating.js';
import { arpAnswerFlow, echoReplyActions } from './replies.js';
import { type PortOut, toPort } from './trunk.js';
import { dhcpNetworkMeter, dhcpPortMeter, dnsNetworkMeter, dnsPortMeter } from './meters.js';
import { FROM_TUNNEL, FROM_UPLINK, matchFlag, matchReg, NETWORK_KEY } from './registers.js';
import { dnsTcpFlows } from './metadata.js';
import { isPhysical, reenterFromUplink, toUplink, tooBigTwin, uplinkOf, VLAN_PRESENT } from './uplink.js';
import { DNS_PORT } from '../../packet/index.js';

export const PRIO_NW = {
  tunnelKey: 100,
  arpAnswer: 100,
  dhcpPunt: 100,
  dnsPunt: 100,
  neighbor: 100,
  unicast: 100,
  flood: 50,
  /** A sub-interface's broadcast: the flood without its own trunk (above plain flooding). */
  floodFromTrunk: 51,
  uplinkIngress: 100,
  /** uplink_ingress: frames to a router of the network, and ARP for its addresses, before plain switching. */
  uplinkRouter: 110,
  uplinkRouterEcho: 120,
  /** uplink_ingress: IPv4 to a floating address of a VM here (before its network's plain switching). */
  uplinkFloating: 115,
  /** uplink_ingress: TCP/UDP to a port translation's outside address and port (above a whole address's twin). */
  uplinkFloatingPort: 117,
  /** Physical networks: unicast to no known local port leaves on the uplink (the segment knows the rest). */
  toUplink: 10,
  /** Physical networks: unicast to a MAC this host answers for on the segment re-enters as if from the uplink. */
  loopback: 20,
} as const;

/** A local port a network or segment delivers to: filtered ones through ingress filtering. */
export type LocalPort = PortOut & { filtered: boolean };

/** Actions that deliver to a local port, through ingress filtering when the port's interface is filtered. */
export function deliverActions(p: LocalPort): Action[] {
  return p.filtered ? [loadOutPort(p.ofport), resubmit('ingress_ct')] : toPort(p);
}

/**
 * Broadcast/multicast of a network or segment (`on` matches it): to every local port (OVS never sends a packet
 * back out of its in_port) and, from a local port, once to each other host with ports in it (tunnelled with
 * `key`) and out of the uplink (`uplink`'s actions); from `outside` (a tunnel, or the uplink) only to local ports.
 */
export function floodFlows(
  cookie: bigint,
  on: Match,
  outside: FieldRange,
  localPorts: LocalPort[],
  remoteHosts: ReadonlyMap<string, { ip: number; tunnelPort: number }>,
  remote: { key: number; uplink: Action[] },
): Flow[] {
  localPorts.sort((a, b) => a.ofport - b.ofport);
  const local = (except?: number): Action[] =>
    localPorts.filter((p) => p.ofport !== except).flatMap((p) => deliverActions(p));
  const away: Action[] = [...remote.uplink];
  const hosts = [...remoteHosts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (hosts.length > 0) away.push(setField('tunnel_id', BigInt(remote.key)));
  for (const [, h] of hosts) away.push(setField('tun_ipv4_dst', h.ip), output(h.tunnelPort));
  const mcast = { value: MAC_MULTICAST_BIT, mask: MAC_MULTICAST_BIT };
  const flows = [
    flow('l2_lookup', PRIO_NW.flood, cookie, { ...on, eth_dst: mcast, ...matchFlag(outside, false) }, [
      apply(...local(), ...away),
    ]),
    flow('l2_lookup', PRIO_NW.flood, cookie, { ...on, eth_dst: mcast, ...matchFlag(outside, true) }, [
      apply(...local()),
    ]),
  ];
  // OVS skips a real in_port by itself; a sub-interface's own number is no port to it, so its broadcasts would
  // come back tagged on its own trunk: its flood leaves it out.
  for (const p of localPorts)
    if (p.trunk)
      flows.push(
        flow('l2_lookup', PRIO_NW.floodFromTrunk, cookie, { ...on, eth_dst: mcast, in_port: exact(p.ofport) }, [
          apply(...local(p.ofport), ...away),
        ]),
      );
  return flows;
}

export function networkFlows(ctx: CompileContext, nw: string): Flow[] {
  ctx.dep(`networks:${nw}`);
  ctx.dep(`members:${nw}`);
  ctx.dep(`present:${nw}`);
  ctx.dep(`network-routes:${nw}`);
  const net = ctx.view.networks.get(nw);
  const presence = ctx.present.get(nw);
  if (!net || !presence) return [];
  const { key, zone } = networkIds(net);
  const onNetwork = matchReg(NETWORK_KEY, key);
  // A physical network is never tunnelled: its other hosts are on the segment behind the uplink.
  const physical = isPhysical(net);
  const uplink = physical ? uplinkOf(ctx, net) : null;
  // Split horizon: only packets that did not come from outside (a tunnel; for a physical network, the uplink)
  // may be sent outside again.
  const outside = physical ? FROM_UPLINK : FROM_TUNNEL;
  const fromLocal = matchFlag(outside, false);
  const full = presence === 'full';
  const routed = (ctx.view.routesByNetwork.get(nw)?.size ?? 0) > 0;
  const out: Flow[] = [];
  // Floating IPs, for the uplink's answers and translations and for hairpin neighbours: placed once per owner.
  const placed = physical && uplink ? placedFloatingIps(ctx) : [];
  const netCookie = (tag: 'tunnel' | 'flood' | 'uplink') => cookieFor('network', nw, tag);

  if (full && uplink) {
    // Frames from the segment: this network's tag (or none, flat) on its uplink.
    const tagged = uplink.vlan !== null;
    out.push(
      flow(
        'uplink_ingress',
        PRIO_NW.uplinkIngress,
        netCookie('uplink'),
        { in_port: exact(uplink.ofport), vlan_vid: exact(tagged ? VLAN_PRESENT | uplink.vlan! : 0) },
        [
          apply(...(tagged ? [{ type: 'pop_vlan' } as const] : []), loadZone(zone)),
          writeNetwork(key),
          goto('l2_lookup'),
        ],
      ),
    );
  }

  if (full && uplink) {
    // Floating IPs in this network served here: ARP answered with the MAC they answer with (the VM's, or the
    // router's in OpenVNet's form); inbound packets are translated to the VM's own address (and port) and routed
    // into its network (from its router's MAC, TTL-1), where its ingress rules still apply.
    const onUplink = {
      in_port: exact(uplink.ofport),
      vlan_vid: exact(uplink.vlan === null ? 0 : VLAN_PRESENT | uplink.vlan),
    };
    const pop = uplink.vlan === null ? [] : [{ type: 'pop_vlan' } as const];
    const arpAnswered = new Set<number>();
    for (const fip of placed.filter((f) => f.servedBy === ctx.local.datapathUuid)) {
      if (!inNetwork(net, fip.floating)) continue;
      ctx.dep(`networks:${fip.vmNetwork}`);
      const vmNet = ctx.view.networks.get(fip.vmNetwork);
      const routerMac = routerMacOf(ctx, fip.vmNetwork);
      if (!vmNet || routerMac === null) continue;
      const vm = networkIds(vmNet);
      const cookie = cookieFor('interface', fip.iface.uuid, 'uplink');
      // A port translation takes only its ports (TCP and UDP): the address's other ports reach nothing here.
      for (const v of portVariants(fip, 'inbound')) {
        const inbound = flow(
          'uplink_ingress',
          fip.ports ? PRIO_NW.uplinkFloatingPort : PRIO_NW.uplinkFloating,
          cookie,
          { ...onUplink, eth_type: exact(ETH_TYPE_IP), ipv4_dst: exact(fip.floating), ...v.match },
          [
            apply(
              ...pop,
              setField('ipv4_dst', fip.fixed),
              ...v.set,
              setField('eth_src', routerMac),
              setField('eth_dst', fip.vmMac),
              { type: 'dec_ttl' },
              loadZone(vm.zone),
            ),
            writeNetwork(vm.key),
            goto('l2_lookup'),
          ],
        );
        out.push(inbound, tooBigTwin(inbound));
      }
      // One answer per address (port translations of one address share it), above a router's own answer: an
      // address a router interface holds to translate (gateway form) is the translation's.
      if (arpAnswered.has(fip.floating)) continue;
      arpAnswered.add(fip.floating);
      const arp = cookieFor('interface', fip.iface.uuid, 'arp');
      out.push(arpAnswerFlow('uplink_ingress', PRIO_NW.uplinkFloating, arp, onUplink, fip.mac, fip.floating));
    }
  }

  if (full && !physical) {
    // Packets from other hosts carry the network key as tun_id.
    out.push(
      flow('tunnel_ingress', PRIO_NW.tunnelKey, netCookie('tunnel'), { tunnel_id: exact(BigInt(key)) }, [
        apply(loadZone(zone)),
        writeNetwork(key),
        goto('l2_lookup'),
      ]),
    );
  }

  const members = [...(ctx.view.membersByNetwork.get(nw) ?? [])].sort();
  const localPorts: LocalPort[] = [];
  const remoteHosts = new Map<string, { ip: number; tunnelPort: number }>();
  const promiscuous = new PromiscuousPorts();
  const seenIp = new Set<number>();
  const seenMac = new Set<bigint>();
  /** Router ports of this network (simulated, enable_routing); `here`: pinned to this datapath. */
  const routers: { uuid: string; mac: bigint; ip: number; here: boolean }[] = [];
  let dhcpService: string | null = null;
  /** DNS services of this network: the `dns` network service and the address its simulated interface has here. */
  const dnsServices: { service: string; ip: number; mac: bigint }[] = [];
  /** Local VM ports' first address in this network (DNS over TCP answers them by it). */
  const localAddrs = new Map<number, { mac: bigint; ip: number }>();

  for (const u of members) {
    ctx.dep(`interfaces:${u}`);
    const i = ctx.view.interfaces.get(u);
    if (!i) continue;
    try {
      const loc = locate(ctx, i);
      if (loc.kind === 'simulated') {
        ctx.dep(`iface-services:${u}`);
        for (const s of [...(ctx.view.servicesByInterface.get(u) ?? [])].sort()) {
          ctx.dep(`network_services:${s}`);
          const mode = ctx.view.networkServices.get(s)?.mode;
          if (mode === 'dhcp' && dhcpService === null) dhcpService = s;
          if (mode === 'dns')
            for (const a of parsedAddresses(i, nw)) dnsServices.push({ service: s, ip: a.ip, mac: a.mac });
        }
      }
      if (loc.kind === 'local' && ctx.bindings.get(u)?.networkUuid === nw) {
        localPorts.push(loc);
        const first = parsedAddresses(i, nw)[0];
        if (first && !localAddrs.has(loc.ofport)) localAddrs.set(loc.ofport, first);
      }
      if (loc.kind === 'remote' && !physical) remoteHosts.set(loc.datapathUuid, loc);
      promiscuous.add(i, loc, !physical);

      const addrs = parsedAddresses(i, nw);
      if (loc.kind === 'simulated' && i.enable_routing)
        for (const a of addrs) routers.push({ uuid: u, ...a, here: physical && answersForRouter(ctx, i, nw) });
      // Who a routed packet can be handed to: local ports, remote hosts over a tunnel; on a physical network
      // anything not simulated (other hosts' VMs, hosts registered as mode=remote) behind the uplink.
      const reachable =
        loc.kind === 'local' || (physical ? uplink !== null && loc.kind !== 'simulated' : loc.kind === 'remote');
      const ifArp = cookieFor('interface', u, 'arp');
      for (const { mac, ip } of addrs) {
        if (seenIp.has(ip)) continue; // two interfaces claiming one address: the first (by uuid) answers
        seenIp.add(ip);
        if (full) out.push(arpAnswerFlow('arp_responder', PRIO_NW.arpAnswer, ifArp, onNetwork, mac, ip));
        if (routed && reachable)
          out.push(
            flow(
              'l3_neighbor',
              PRIO_NW.neighbor,
              cookieFor('interface', u, 'neighbor'),
              { ...onNetwork, eth_type: exact(ETH_TYPE_IP), ipv4_dst: exact(ip) },
              [apply(setField('eth_dst', mac)), goto('snat')],
            ),
          );
      }

      // Remote members of a physical network are behind the uplink: the to-uplink flow reaches them.
      if (loc.kind !== 'local' && (loc.kind !== 'remote' || physical)) continue;
      const l2 = cookieFor('interface', u, 'l2');
      for (const mac of parsedMacs(i)) {
        if (seenMac.has(mac)) continue;
        seenMac.add(mac);
        if (loc.kind === 'local')
          out.push(
            flow('l2_lookup', PRIO_NW.unicast, l2, { ...onNetwork, eth_dst: exact(mac) }, [
              apply(...deliverActions(loc)),
            ]),
          );
        // Only traffic from a local port is tunnelled: a packet that came from a tunnel is never sent on
        // (split horizon), so a stale location elsewhere cannot make packets bounce between hosts.
        else
          out.push(
            flow('l2_lookup', PRIO_NW.unicast, l2, { ...onNetwork, eth_dst: exact(mac), ...fromLocal }, [
              apply(...tunnelActions(key, loc.ip, loc.tunnelPort)),
            ]),
          );
      }
    } catch (err) {
      // One interface with bad data loses its flows; the rest of the network keeps working.
      ctx.report(err);
    }
  }

  if (full && uplink) {
    // The segment reaches this network's routers through any host with the uplink (the segment's switch learns
    // router MACs wherever routed packets leave); ARP for a router address only the router's pinned host
    // answers (owner_datapath_uuid), so the segment sees one answer. The reply keeps the request's tag.
    const onUplink = {
      in_port: exact(uplink.ofport),
      vlan_vid: exact(uplink.vlan === null ? 0 : VLAN_PRESENT | uplink.vlan),
    };
    const pop = uplink.vlan === null ? [] : [{ type: 'pop_vlan' } as const];
    // Hairpin here: the segment's switch learned the MACs this host answers for (floating IPs it serves, routers
    // it is the gateway of) on this uplink and never sends a frame back out of the port it came in on, so a frame
    // for one of them from this host turns around in the switch: it enters again as if from the uplink (tagged
    // like one), with fresh flags — FROM_UPLINK then keeps it from turning around twice.
    const answered = new Map<bigint, bigint>();
    for (const fip of placed)
      if (fip.servedBy === ctx.local.datapathUuid && inNetwork(net, fip.floating) && !answered.has(fip.mac))
        answered.set(fip.mac, cookieFor('interface', fip.iface.uuid, 'hairpin'));
    for (const r of routers)
      if (r.here && !answered.has(r.mac)) answered.set(r.mac, cookieFor('interface', r.uuid, 'hairpin'));
    for (const [mac, cookie] of answered)
      out.push(
        flow('l2_lookup', PRIO_NW.loopback, cookie, { ...onNetwork, eth_dst: exact(mac), ...fromLocal }, [
          apply(...reenterFromUplink(uplink)),
        ]),
      );
    const routerMacs = new Set<bigint>();
    const translated = new Set(placed.filter((f) => f.external.uuid === nw).map((f) => f.floating));
    for (const r of routers) {
      if (!routerMacs.has(r.mac)) {
        routerMacs.add(r.mac);
        const toRouter = flow(
          'uplink_ingress',
          PRIO_NW.uplinkRouter,
          cookieFor('interface', r.uuid, 'uplink'),
          { ...onUplink, eth_dst: exact(r.mac) },
          [apply(...pop, loadZone(zone)), writeNetwork(key), goto('l3_routing')],
        );
        out.push(toRouter, tooBigTwin(toRouter));
      }
      // Echo to the router address is answered here, tag kept (routing would pop it, and the reply leave untagged)
      // — unless it holds the address to translate it (gateway form): then the VM behind it answers.
      if (!translated.has(r.ip))
        out.push(
          flow(
            'uplink_ingress',
            PRIO_NW.uplinkRouterEcho,
            cookieFor('interface', r.uuid, 'icmp'),
            {
              ...onUplink,
              eth_dst: exact(r.mac),
              eth_type: exact(ETH_TYPE_IP),
              ip_proto: exact(IPPROTO_ICMP),
              icmpv4_type: exact(ICMP_ECHO_REQUEST),
              ipv4_dst: exact(r.ip),
            },
            [apply(...echoReplyActions(r.ip))],
          ),
        );
      if (r.here)
        out.push(
          arpAnswerFlow(
            'uplink_ingress',
            PRIO_NW.uplinkRouter,
            cookieFor('interface', r.uuid, 'arp'),
            onUplink,
            r.mac,
            r.ip,
          ),
        );
    }
  }

  if (physical && uplink && routed) {
    // Hairpin through the segment: a routed packet to a floating address of this network goes to the MAC that
    // address answers with (the VM's, wherever it is served), and one to a router address here to the router's
    // MAC (its gateway un-translates it); the segment carries both to the host that answers for them.
    // (Router addresses answer ARP but, simulated, got no neighbour entry above; a floating address that is
    // also a member's address is left to the member.)
    const hairpin: { ip: number; mac: bigint; cookie: bigint }[] = [];
    for (const fip of placed)
      if (fip.external.uuid === nw && fip.servedBy !== null && !seenIp.has(fip.floating))
        hairpin.push({ ip: fip.floating, mac: fip.mac, cookie: cookieFor('interface', fip.iface.uuid, 'neighbor') });
    for (const r of routers) hairpin.push({ ip: r.ip, mac: r.mac, cookie: cookieFor('interface', r.uuid, 'neighbor') });
    const done = new Set<number>();
    for (const h of hairpin) {
      if (done.has(h.ip)) continue;
      done.add(h.ip);
      out.push(
        flow(
          'l3_neighbor',
          PRIO_NW.neighbor,
          h.cookie,
          { ...onNetwork, eth_type: exact(ETH_TYPE_IP), ipv4_dst: exact(h.ip) },
          [apply(setField('eth_dst', h.mac)), goto('snat')],
        ),
      );
    }
  }

  if (full && dhcpService !== null) {
    // DHCP from local VMs goes to the agent only (never flooded, never tunnelled): first through the VM's own
    // meter, so a flooding VM spends only its own budget, then through its network's in dhcp_punt, so a
    // tenant's VMs together spend only their network's.
    if (localPorts.length > 0)
      out.push(
        // The pipeline's dhcp cookie: the agent knows a DHCP packet-in by it (packet-in.ts).
        flow('dhcp_punt', PRIO_NW.dhcpPunt, pipelineCookie('dhcp'), onNetwork, [
          { type: 'meter', meterId: dhcpNetworkMeter(key).id },
          apply({ type: 'controller', maxLen: OFPCML_NO_BUFFER }),
        ]),
      );
    for (const p of localPorts)
      out.push(
        flow(
          'services',
          PRIO_NW.dhcpPunt,
          cookieFor('network_service', dhcpService, 'dhcp'),
          {
            ...onNetwork,
            in_port: exact(p.ofport),
            eth_type: exact(ETH_TYPE_IP),
            ip_proto: exact(IPPROTO_UDP),
            udp_src: exact(DHCP_CLIENT_PORT),
            udp_dst: exact(DHCP_SERVER_PORT),
          },
          [{ type: 'meter', meterId: dhcpPortMeter(p.ofport).id }, goto('dhcp_punt')],
        ),
      );
  }

  if (full && dnsServices.length > 0 && localPorts.length > 0) {
    // DNS queries from local VMs to a DNS service's address go to this host's agent (every host answers its own
    // VMs, as DHCP), through the VM's meter and then its network's, like DHCP.
    out.push(
      // The pipeline's dns cookie: the agent knows a DNS packet-in by it (packet-in.ts).
      flow('dns_punt', PRIO_NW.dnsPunt, pipelineCookie('dns'), onNetwork, [
        { type: 'meter', meterId: dnsNetworkMeter(key).id },
        apply({ type: 'controller', maxLen: OFPCML_NO_BUFFER }),
      ]),
    );
    const seenDns = new Set<number>();
    for (const d of dnsServices) {
      if (seenDns.has(d.ip)) continue;
      seenDns.add(d.ip);
      for (const p of localPorts)
        out.push(
          flow(
            'services',
            PRIO_NW.dnsPunt,
            cookieFor('network_service', d.service, 'dns'),
            {
              ...onNetwork,
              in_port: exact(p.ofport),
              eth_type: exact(ETH_TYPE_IP),
              ip_proto: exact(IPPROTO_UDP),
              ipv4_dst: exact(d.ip),
              udp_dst: exact(DNS_PORT),
            },
            [{ type: 'meter', meterId: dnsPortMeter(p.ofport).id }, goto('dns_punt')],
          ),
        );
    }
    // Over TCP (through the metadata port to the agent's listener): the network's lowest DNS service address.
    const tcp = dnsServices.reduce((a, b) => (b.ip < a.ip ? b : a));
    for (const p of localPorts) {
      const vm = localAddrs.get(p.ofport);
      if (vm)
        out.push(
          ...dnsTcpFlows(
            ctx.local,
            cookieFor('network_service', tcp.service, 'dns'),
            { ofport: p.ofport, ...vm },
            tcp,
            {
              key,
              zone,
            },
          ),
        );
    }
  }

  if (full && uplink && !promiscuous.any)
    out.push(
      flow('l2_lookup', PRIO_NW.toUplink, netCookie('uplink'), { ...onNetwork, ...fromLocal }, [
        apply(...toUplink(uplink)),
      ]),
    );
  if (full && promiscuous.any)
    // Unicast to no MAC the model knows is for the machines behind a promiscuous port (here or on another host).
    out.push(
      ...promiscuous.unknownUnicastFlows(netCookie('flood'), onNetwork, outside, key, uplink ? toUplink(uplink) : []),
    );

  if (full) {
    out.push(
      ...floodFlows(netCookie('flood'), onNetwork, outside, localPorts, remoteHosts, {
        key,
        uplink: uplink ? toUplink(uplink) : [],
      }),
    );
  }
  return out;
}
