// Uplinks: the host ports that carry physical networks to the segment outside (OpenVNet's `mode=host`
// interfaces). Which uplink serves a physical network on this host, and how a frame leaves through it.
import { ENCAP_OVERHEAD } from '../../dhcp/mtu.js';
import type { Action, Flow } from '../../openflow/types.js';
import { ETH_HLEN, VLAN_HLEN } from '../../packet/index.js';
import type { Interface, Network, Segment } from '../../model/types.js';
import { activeGateway } from './active-gateway.js';
import { apply, ETH_TYPE_IP, exact, load, OFPCML_NO_BUFFER, output, pushVlan, resubmit } from './build.js';
import { withTag } from './cookies.js';
import { ICMP_ERROR_METER } from './meters.js';
import { FLAGS, matchFlag, TOO_BIG } from './registers.js';
import type { CompileContext } from './compile-context.js';
import { type Binding, interfaceNetworks, type LocalContext, type ModelView } from './model-view.js';

export { VLAN_PRESENT } from './build.js';

/** What finding an uplink reads (a CompileContext is one; status checks pass a no-op `dep`). */
export type UplinkContext = Pick<CompileContext, 'view' | 'local' | 'bindings' | 'dep'>;

/** A physical network's way out on this host. */
export interface Uplink {
  /** The host interface (mode host) bound to the uplink port. */
  interfaceUuid: string;
  ofport: number;
  /** The network's tag on the segment; null: untagged (flat). */
  vlan: number | null;
}

export function isPhysical(net: Network): boolean {
  return net.network_mode === 'physical';
}

export function isUplink(i: Interface): boolean {
  return i.mode === 'host';
}

/**
 * The uplink of physical network `nw` here: the host interface its datapath_networks row for this datapath
 * names (OpenVNet's way: one host port, many networks), else a host interface of the network itself bound
 * on this host. null when there is none (the network then reaches only this host's ports).
 */
export function uplinkOf(ctx: UplinkContext, net: Network): Uplink | null {
  const rowKey = `${ctx.local.datapathUuid}/${net.uuid}`;
  ctx.dep(`datapath_networks:${rowKey}`);
  const named = ctx.view.datapathNetworks.get(rowKey)?.interface_uuid;
  const candidates = named ? [named] : [...(ctx.view.membersByNetwork.get(net.uuid) ?? [])].sort();
  return firstBoundUplink(ctx, candidates, net.vlan_id);
}

export function isPhysicalSegment(seg: Segment): boolean {
  return seg.mode === 'physical';
}

/**
 * The uplink of physical segment `seg` here: the host interface its datapath_segments row for this datapath names
 * (a host interface cannot be on a segment itself). null when there is none.
 */
export function segmentUplinkOf(ctx: UplinkContext, seg: Segment): Uplink | null {
  const rowKey = `${ctx.local.datapathUuid}/${seg.uuid}`;
  ctx.dep(`datapath_segments:${rowKey}`);
  const named = ctx.view.datapathSegments.get(rowKey)?.interface_uuid;
  return named ? firstBoundUplink(ctx, [named], seg.vlan_id) : null;
}

/** The first of `candidates` that is a host interface bound here, carrying the tag `vlan` (null/absent: flat). */
function firstBoundUplink(ctx: UplinkContext, candidates: readonly string[], vlan: unknown): Uplink | null {
  const tag = typeof vlan === 'number' ? vlan : null;
  for (const u of candidates) {
    ctx.dep(`interfaces:${u}`);
    ctx.dep(`binding:${u}`);
    const i = ctx.view.interfaces.get(u);
    const b = ctx.bindings.get(u);
    if (i && b && isUplink(i)) return { interfaceUuid: u, ofport: b.ofport, vlan: tag };
  }
  return null;
}

/**
 * The IP MTU a virtual network takes on every host, whatever encapsulation its hosts use (VXLAN's overhead is
 * the larger): frames from an uplink longer than this (plus the Ethernet header) are TOO_BIG to route into one.
 */
export function virtualMtu(local: Pick<LocalContext, 'underlayMtu'>): number {
  return local.underlayMtu - Math.max(...Object.values(ENCAP_OVERHEAD));
}

/**
 * check_pkt_larger's length for frames from an uplink: the virtual MTU plus the Ethernet header, plus the tag for a
 * tagged frame (ovs-actions(7) says the tag does not count; Linux's OVS counts it, checked with the e2e's boundary
 * pings: 1,450 bytes of IP pass, 1,451 are answered).
 */
export function tooBigLength(local: Pick<LocalContext, 'underlayMtu'>, tagged: boolean): number {
  return virtualMtu(local) + ETH_HLEN + (tagged ? VLAN_HLEN : 0);
}

/**
 * The twin of an uplink_ingress flow that routes or translates into virtual networks: one priority higher, for
 * the same frames when they are TOO_BIG, it sends them to the agent (through the ICMP-error meter), which
 * answers with ICMP "fragmentation needed" — path MTU discovery from outside works instead of silent loss.
 */
export function tooBigTwin(f: Flow): Flow {
  return {
    ...f,
    priority: f.priority + 1,
    cookie: withTag(f.cookie, 'mtu'),
    match: { ...f.match, eth_type: exact(ETH_TYPE_IP), ...matchFlag(TOO_BIG, true) },
    instructions: [
      { type: 'meter', meterId: ICMP_ERROR_METER.id },
      apply({ type: 'controller', maxLen: OFPCML_NO_BUFFER }),
    ],
  };
}

/**
 * Whether datapath `dp` has an uplink on physical network `nw`, as the model says (a datapath_networks row naming
 * a host interface, or a host interface of that datapath on the network) — what every agent can tell of every
 * other host, e.g. to place a floating IP.
 */
export function hasUplink(ctx: Pick<UplinkContext, 'view' | 'dep'>, dp: string, nw: string): boolean {
  ctx.dep(`datapath_networks:${dp}/${nw}`);
  ctx.dep(`host-ifs:${dp}`);
  const named = ctx.view.datapathNetworks.get(`${dp}/${nw}`)?.interface_uuid;
  if (named && ctx.view.interfaces.get(named)?.mode === 'host') return true;
  for (const u of ctx.view.hostInterfacesByDatapath.get(dp) ?? []) {
    const i = ctx.view.interfaces.get(u);
    if (i?.port_name && interfaceNetworks(i).includes(nw)) return true;
  }
  return false;
}

/** The network's VLAN tag as the segment carries it (nothing for a flat network). */
function tagFor(up: Uplink): Action[] {
  return up.vlan === null ? [] : pushVlan(up.vlan);
}

/** Out through the uplink, tagged with the network's VLAN when it has one. */
export function toUplink(up: Uplink): Action[] {
  return [...tagFor(up), output(up.ofport)];
}

/**
 * Into the pipeline again as a frame from the uplink would come (the re-entry tables.ts declares for l2_lookup):
 * tagged like one, in_port the uplink, flags cleared (a packet tunnelled here may go on to a tunnel again).
 */
export function reenterFromUplink(up: Uplink): Action[] {
  // NXM_OF_IN_PORT by load: OpenFlow forbids set_field on OXM in_port (OVS answers OFPBAC_BAD_SET_ARGUMENT).
  const inPort = { type: 'load', dst: { field: 'in_port', start: 0, nBits: 16 }, value: up.ofport } as const;
  return [load(FLAGS, 0), inPort, ...tagFor(up), resubmit('classifier')];
}

/**
 * What is wrong with this host's uplinks, one line each, for the datapath's status: a host interface of this
 * datapath that is not bound (its port is not on the bridge), and a physical network with local ports here
 * but no uplink (its VMs reach only each other).
 */
export function uplinkProblems(
  view: ModelView,
  local: LocalContext,
  bindings: ReadonlyMap<string, Binding>,
  present: ReadonlyMap<string, unknown>,
): string[] {
  const out: string[] = [];
  // A host interface without a port only declares the host's address (the underlay); it is no uplink.
  // This datapath's host interfaces, from the model's index: this runs after every reconciliation.
  for (const u of [...(view.hostInterfacesByDatapath.get(local.datapathUuid) ?? [])].sort()) {
    const port = view.interfaces.get(u)?.port_name;
    if (port && !bindings.has(u)) out.push(`uplink ${u}: port ${port} is not on the bridge`);
  }
  for (const b of bindings.values()) {
    const i = view.interfaces.get(b.interfaceUuid);
    if (i && isUplink(i) && local.ports.get(b.portName)?.linkUp === false)
      out.push(`uplink ${i.uuid}: port ${b.portName} has no carrier (link down)`);
  }
  const ctx: UplinkContext = { view, local, bindings, dep: () => {} };
  const segmentsHere = new Set<string>();
  for (const b of bindings.values()) if (!b.networkUuid && b.segmentUuid) segmentsHere.add(b.segmentUuid);
  for (const s of [...segmentsHere].sort()) {
    const seg = view.segments.get(s);
    if (seg && isPhysicalSegment(seg) && !segmentUplinkOf(ctx, seg))
      out.push(`physical segment ${s}: no uplink on this datapath (its ports here reach only each other)`);
  }
  for (const nw of [...present.keys()].sort()) {
    const net = view.networks.get(nw);
    if (!net || !isPhysical(net)) continue;
    const uplink = uplinkOf(ctx, net);
    if (bindingsOn(bindings, nw) && !uplink)
      out.push(`physical network ${nw}: no uplink on this datapath (its ports here reach only each other)`);
    if (!uplink) continue;
    const gateway = activeGateway(ctx, nw);
    if (gateway === null)
      out.push(
        `physical network ${nw}: none of its gateway candidates is connected, so no host answers for its routers`,
      );
    if (gateway === undefined)
      for (const u of [...(view.membersByNetwork.get(nw) ?? [])].sort()) {
        const i = view.interfaces.get(u);
        if (i?.mode === 'simulated' && i.enable_routing && !i.owner_datapath_uuid)
          out.push(
            `router ${u} on physical network ${nw}: no owner_datapath_uuid and no gateway candidates, so no host answers ARP for it`,
          );
      }
  }
  return out;
}

/** Whether a VM port (not an uplink) of network `nw` is bound here. */
function bindingsOn(bindings: ReadonlyMap<string, Binding>, nw: string): boolean {
  for (const b of bindings.values()) if (b.networkUuid === nw) return true;
  return false;
}
