// Uplinks: the host ports that carry physical networks to the segment outside (OpenVNet's `mode=host`
// interfaces). Which uplink serves a physical network on this host, and how a frame leaves through it.
import type { Action } from '../../openflow/types.js';
import type { Interface, Network } from '../../model/types.js';
import { output } from './build.js';
import type { CompileContext } from './compile-context.js';

/** OFPVID_PRESENT: the vlan_vid bit saying a tag is there (OpenFlow 1.3 §7.2.3.7). */
export const VLAN_PRESENT = 0x1000;
const ETH_TYPE_VLAN = 0x8100;

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
export function uplinkOf(ctx: CompileContext, net: Network): Uplink | null {
  const vlan = typeof net.vlan_id === 'number' ? net.vlan_id : null;
  const rowKey = `${ctx.local.datapathUuid}/${net.uuid}`;
  ctx.dep(`datapath_networks:${rowKey}`);
  const named = ctx.view.datapathNetworks.get(rowKey)?.interface_uuid;
  const candidates = named ? [named] : [...(ctx.view.membersByNetwork.get(net.uuid) ?? [])].sort();
  for (const u of candidates) {
    ctx.dep(`interfaces:${u}`);
    ctx.dep(`binding:${u}`);
    const i = ctx.view.interfaces.get(u);
    const b = ctx.bindings.get(u);
    if (i && b && isUplink(i)) return { interfaceUuid: u, ofport: b.ofport, vlan };
  }
  return null;
}

/** Out through the uplink, tagged with the network's VLAN when it has one. */
export function toUplink(up: Uplink): Action[] {
  if (up.vlan === null) return [output(up.ofport)];
  return [
    { type: 'push_vlan', ethertype: ETH_TYPE_VLAN },
    { type: 'set_field', field: 'vlan_vid', value: VLAN_PRESENT | up.vlan },
    output(up.ofport),
  ];
}
