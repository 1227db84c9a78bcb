// Floating IPs: OpenVNet's static address translations (1:1 NAT, `translations` mode static_address) of a VM's
// address to an address of an external physical network, whole or per TCP/UDP port. Two forms (the model's
// STATIC_ADDRESS_SIDES): on the VM's interface (vnet's, Neutron's), handled on the VM's host when it has an uplink
// on that network, else at the network's gateway — ARP for the floating address answered with the VM's MAC
// (unique, so the segment's switch learns where each floating address lives); or on a router interface of the
// physical network (OpenVNet's wanedge), handled where that router answers — ARP answered with the router's MAC,
// as OpenVNet's IP leases on it do. Inbound packets are translated where it is served; outbound ones where the
// VM's packets are routed (its own host), or sent there.
import { staticAddressSides, translationForm } from '../../model/resources/translations.js';
import type { Interface, Network } from '../../model/types.js';
import type { Action, Match } from '../../openflow/types.js';
import { exact, IPPROTO_TCP, IPPROTO_UDP, setField } from './build.js';
import { formatIpv4, formatMac, parseIpv4, prefixMask } from './addr.js';
import type { CompileContext } from './compile-context.js';
import { parsedAddresses, parsedMacs } from './flows-interface.js';
import { type Binding, interfaceNetworks, type LocalContext, type ModelView, routesOfLink } from './model-view.js';
import { activeGateway } from './active-gateway.js';
import { hasUplink, isPhysical, uplinkOf } from './uplink.js';

export interface FloatingIp {
  translationUuid: string;
  iface: Interface;
  /** The VM's own (inside) address, and the network it is in. */
  fixed: number;
  vmNetwork: string;
  /** The outside address. */
  floating: number;
  /** The MAC the floating address answers with on the segment: the VM's, or (gateway form) the router's. */
  mac: bigint;
  /** The VM's MAC, inbound packets' destination in its network. */
  vmMac: bigint;
  /** A port translation (TCP and UDP, as OpenVNet's): outside port ↔ the VM's port; null: the whole address. */
  ports: { outside: number; inside: number } | null;
}

/** A floating IP with where its VM is and which datapath serves it. */
export interface PlacedFloatingIp extends FloatingIp {
  /** The datapath the VM is bound on. */
  vmDatapath: string;
  /** The physical network holding the floating address. */
  external: Network;
  /**
   * The datapath that answers for it on the segment and translates it: the VM's own when that has an uplink on
   * the external network (distributed), else the external network's active gateway; null: none can.
   */
  servedBy: string | null;
}

/**
 * Every floating IP (static_address translations of VMs bound somewhere; unknown addresses are skipped) with where
 * it is served. Every agent computes the same placement from the model.
 */
export function placedFloatingIps(ctx: CompileContext): PlacedFloatingIp[] {
  ctx.dep('any:translations');
  const out: PlacedFloatingIp[] = [];
  if (ctx.view.translations.size === 0) return out;
  const me = ctx.local.datapathUuid;
  const physical = [...ctx.view.networks.values()].filter(isPhysical);
  // Many floating IPs share a VM host and an external network: place each pair once.
  const placement = new Map<string, string | null>();
  const servedHere = (dp: string, nw: string): string | null => {
    const k = `${dp}/${nw}`;
    let at = placement.get(k);
    if (at === undefined) {
      at = hasUplink(ctx, dp, nw) ? dp : (activeGateway(ctx, nw) ?? null);
      placement.set(k, at);
    }
    return at;
  };
  // VM form: in the physical network holding the outside address, answered with the VM's MAC.
  const servedForVm = (floating: number, vmDatapath: string, vmMac: bigint) => {
    const external = physical.find((n) => inNetwork(n, floating));
    if (!external) return null;
    ctx.dep(`networks:${external.uuid}`);
    return { external, mac: vmMac, servedBy: servedHere(vmDatapath, external.uuid) };
  };
  for (const t of [...ctx.view.translations.values()].sort((a, b) => (a.uuid < b.uuid ? -1 : 1))) {
    if (t.mode !== 'static_address') continue;
    ctx.dep(`interfaces:${t.interface_uuid}`);
    const on = ctx.view.interfaces.get(t.interface_uuid);
    if (!on) continue;
    try {
      const onNetwork = interfaceNetworks(on)[0];
      if (onNetwork) ctx.dep(`networks:${onNetwork}`);
      const gatewayNet = onNetwork ? ctx.view.networks.get(onNetwork) : undefined;
      const form = translationForm(on, gatewayNet?.network_mode);
      for (const sa of t.static_addresses ?? []) {
        const { inside, outside } = staticAddressSides(form, sa);
        if ((inside.port === null) !== (outside.port === null)) continue; // refused by the server; never half
        const fixed = parseIpv4(inside.address, `translations.${t.uuid}.${inside.addressField}`);
        const floating = parseIpv4(outside.address, `translations.${t.uuid}.${outside.addressField}`);
        const vm = form === 'gateway' ? insideInterface(ctx, on, sa.route_link_uuid ?? null, fixed) : on;
        if (!vm) continue;
        ctx.dep(`binding:${vm.uuid}`);
        ctx.dep(`location:${vm.uuid}`);
        const b = ctx.bindings.get(vm.uuid);
        const vmDatapath = b ? me : (vm.active_datapath_uuid ?? null);
        const vmNetwork = b ? b.networkUuid : (interfaceNetworks(vm)[0] ?? null);
        if (!vmDatapath || !vmNetwork) continue;
        if (!parsedAddresses(vm, vmNetwork).some((a) => a.ip === fixed)) continue;
        const vmMac = parsedMacs(vm)[0];
        if (vmMac === undefined) continue;
        const ports = inside.port === null ? null : { outside: outside.port!, inside: inside.port };
        const at =
          form === 'gateway' ? servedAtRouter(ctx, on, gatewayNet, floating) : servedForVm(floating, vmDatapath, vmMac);
        if (!at) continue;
        out.push({ translationUuid: t.uuid, iface: vm, fixed, vmNetwork, floating, vmMac, ports, vmDatapath, ...at });
      }
    } catch (err) {
      ctx.report(err);
    }
  }
  return out;
}

/**
 * Gateway form: served where the router answers on its network (its active gateway, else its pin), with the
 * router's MAC — OpenVNet held the outside addresses as IP leases on it.
 */
function servedAtRouter(ctx: CompileContext, router: Interface, net: Network | undefined, floating: number) {
  const mac = parsedMacs(router)[0];
  if (!net || mac === undefined || !inNetwork(net, floating)) return null;
  const active = activeGateway(ctx, net.uuid);
  return { external: net, mac, servedBy: active === undefined ? (router.owner_datapath_uuid ?? null) : active };
}

/**
 * The interface holding inside address `ip` behind router interface `gateway` (gateway form): in a virtual network
 * of the entry's route link, or of any route link the router interface routes for.
 */
function insideInterface(ctx: CompileContext, gateway: Interface, link: string | null, ip: number): Interface | null {
  ctx.dep('any:routes');
  const links = link
    ? [link]
    : [
        ...new Set(
          [...ctx.view.routes.values()].filter((r) => r.interface_uuid === gateway.uuid).map((r) => r.route_link_uuid),
        ),
      ].sort();
  for (const rl of links) {
    ctx.dep(`link-routes:${rl}`);
    for (const route of routesOfLink(ctx.view, rl)) {
      const nw = route.network_uuid;
      ctx.dep(`members:${nw}`);
      for (const u of [...(ctx.view.membersByNetwork.get(nw) ?? [])].sort()) {
        ctx.dep(`interfaces:${u}`);
        const i = ctx.view.interfaces.get(u);
        if (i && i.mode !== 'simulated' && parsedAddresses(i, nw).some((a) => a.ip === ip)) return i;
      }
    }
  }
  return null;
}

/** The floating IPs this host serves: of its own VMs where it has the uplink, of others' as their gateway. */
export function localFloatingIps(ctx: CompileContext): PlacedFloatingIp[] {
  return placedFloatingIps(ctx).filter((f) => f.servedBy === ctx.local.datapathUuid);
}

/** Whether `ip` is in network `net`'s subnet. */
export function inNetwork(net: Network, ip: number): boolean {
  if (net.ipv4_network === null) return false; // no subnet yet: no address is in it
  const base = parseIpv4(net.ipv4_network, `networks.${net.uuid}.ipv4_network`);
  const mask = prefixMask(net.ipv4_prefix ?? 24);
  return (ip & mask) >>> 0 === (base & mask) >>> 0;
}

/** The MAC of network `nw`'s router (the interface of its first route, by uuid), the source of routed packets. */
export function routerMacOf(ctx: CompileContext, nw: string): bigint | null {
  ctx.dep(`network-routes:${nw}`);
  for (const r of [...(ctx.view.routesByNetwork.get(nw) ?? [])].sort()) {
    ctx.dep(`routes:${r}`);
    const route = ctx.view.routes.get(r);
    if (!route) continue;
    ctx.dep(`interfaces:${route.interface_uuid}`);
    const i = ctx.view.interfaces.get(route.interface_uuid);
    const mac = i ? parsedMacs(i)[0] : undefined;
    if (mac !== undefined) return mac;
  }
  return null;
}

/**
 * An address this host answers for on a segment, to announce (gratuitous ARP) once its flows are in: a floating
 * IP of a VM here, or a router address on a network whose active gateway this is. `translationUuid`: the
 * translation whose activity the announcement shows (reported), if any.
 */
export interface Announcement {
  translationUuid: string | null;
  address: string;
  mac: string;
  ofport: number;
  vlan: number | null;
}

/** What the status-side computations read; dependencies are not recorded (they run after every reconciliation). */
export function statusContext(
  view: ModelView,
  local: LocalContext,
  bindings: ReadonlyMap<string, Binding>,
): CompileContext {
  return { view, local, bindings, boundByNetwork: new Map(), present: new Map(), dep: () => {}, report: () => {} };
}

/** The floating IPs of VMs bound here whose external network has an uplink here, for the runtime's GARPs. */
export function floatingAnnouncements(ctx: CompileContext): Announcement[] {
  const out: Announcement[] = [];
  const seen = new Set<number>(); // port translations of one address: announced once
  for (const fip of localFloatingIps(ctx)) {
    const up = uplinkOf(ctx, fip.external);
    if (!up || seen.has(fip.floating)) continue;
    seen.add(fip.floating);
    out.push({
      translationUuid: fip.translationUuid,
      address: formatIpv4(fip.floating),
      mac: formatMac(fip.mac),
      ofport: up.ofport,
      vlan: up.vlan,
    });
  }
  return out;
}

/**
 * How a floating IP's packets are matched and rewritten beyond their addresses: nothing for a whole address; for
 * a port translation one variant per protocol (TCP and UDP, as OpenVNet's static_address.rb) — inbound the
 * outside destination port becomes the VM's, outbound the VM's source port becomes the outside one.
 */
export function portVariants(fip: FloatingIp, dir: 'inbound' | 'outbound'): { match: Match; set: Action[] }[] {
  if (!fip.ports) return [{ match: {}, set: [] }];
  const { outside, inside } = fip.ports;
  return (
    [
      [IPPROTO_TCP, 'tcp'],
      [IPPROTO_UDP, 'udp'],
    ] as const
  ).map(([proto, l4]) =>
    dir === 'inbound'
      ? { match: { ip_proto: exact(proto), [`${l4}_dst`]: exact(outside) }, set: [setField(`${l4}_dst`, inside)] }
      : { match: { ip_proto: exact(proto), [`${l4}_src`]: exact(inside) }, set: [setField(`${l4}_src`, outside)] },
  );
}
