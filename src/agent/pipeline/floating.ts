// Floating IPs: OpenVNet's static address translations (1:1 NAT, `translations` mode static_address) of a VM's
// address to an address of an external physical network. Handled on the VM's host, which needs an uplink on that
// network: ARP for the floating address is answered there with the VM's MAC (unique, so the segment's switch
// learns where each floating address lives), inbound packets are translated there, and outbound ones are
// translated where the VM's packets are routed (its own host).
import type { Interface, Network } from '../../model/types.js';
import { formatIpv4, formatMac, parseIpv4, prefixMask } from './addr.js';
import type { CompileContext } from './compile-context.js';
import { parsedAddresses, parsedMacs } from './flows-interface.js';
import { type Binding, interfaceNetworks, type LocalContext, type ModelView } from './model-view.js';
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
  /** The MAC the floating address answers with: the VM's. */
  mac: bigint;
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
 * Every floating IP (static_address translations of VMs bound somewhere; port translations and unknown
 * addresses are skipped) with where it is served. Every agent computes the same placement from the model.
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
  for (const t of [...ctx.view.translations.values()].sort((a, b) => (a.uuid < b.uuid ? -1 : 1))) {
    if (t.mode !== 'static_address') continue;
    ctx.dep(`interfaces:${t.interface_uuid}`);
    ctx.dep(`binding:${t.interface_uuid}`);
    ctx.dep(`location:${t.interface_uuid}`);
    const iface = ctx.view.interfaces.get(t.interface_uuid);
    if (!iface) continue;
    const b = ctx.bindings.get(t.interface_uuid);
    const vmDatapath = b ? me : (iface.active_datapath_uuid ?? null);
    const vmNetwork = b ? b.networkUuid : (interfaceNetworks(iface)[0] ?? null);
    if (!vmDatapath || !vmNetwork) continue;
    try {
      const own = parsedAddresses(iface, vmNetwork);
      const mac = parsedMacs(iface)[0];
      if (mac === undefined) continue;
      for (const sa of t.static_addresses ?? []) {
        if (sa.ingress_port_number != null || sa.egress_port_number != null) continue;
        const fixed = parseIpv4(sa.ingress_ipv4_address, `translations.${t.uuid}.ingress_ipv4_address`);
        if (!own.some((a) => a.ip === fixed)) continue;
        const floating = parseIpv4(sa.egress_ipv4_address, `translations.${t.uuid}.egress_ipv4_address`);
        const external = physical.find((n) => inNetwork(n, floating));
        if (!external) continue;
        ctx.dep(`networks:${external.uuid}`);
        const servedBy = servedHere(vmDatapath, external.uuid);
        out.push({ translationUuid: t.uuid, iface, fixed, vmNetwork, floating, mac, vmDatapath, external, servedBy });
      }
    } catch (err) {
      ctx.report(err);
    }
  }
  return out;
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
  for (const fip of localFloatingIps(ctx)) {
    const up = uplinkOf(ctx, fip.external);
    if (up)
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
