// Interface MTU handed to VMs (DHCP option 26): the network's own MTU, else the underlay MTU minus tunnel overhead.

export type Encapsulation = 'gre' | 'vxlan';

/**
 * Bytes a tunnel adds around the VM's Ethernet frame, outer Ethernet excluded (the underlay MTU
 * is an IP MTU, so the outer Ethernet header does not count against it):
 *   VXLAN: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50  → 1500 − 50 = 1450.
 *   GRE:   outer IPv4 20 + GRE base header 4 + key field 4 (vnet's tunnels are key=flow, so the
 *          key is always present) + inner Ethernet 14 = 42            → 1500 − 42 = 1458.
 * (GRE without a key would be 38 → 1462; our ports always carry the key, so 1458 is the safe value.
 * Checked in the lab with `ping -M do`: 1458-byte inner packets cross a GRE tunnel on a 1500 underlay,
 * 1459 and 1462 do not.)
 */
export const ENCAP_OVERHEAD: Readonly<Record<Encapsulation, number>> = Object.freeze({ vxlan: 50, gre: 42 });

/** RFC 2132 §5.1: the smallest legal interface MTU. */
export const MIN_INTERFACE_MTU = 68;
export const DEFAULT_UNDERLAY_MTU = 1500;

/** The MTU a VM in the network should use. */
export function interfaceMtu(
  networkMtu: number | null | undefined,
  encapsulation: Encapsulation,
  underlayMtu: number,
): number {
  if (networkMtu != null && networkMtu > 0) return Math.max(MIN_INTERFACE_MTU, Math.min(networkMtu, 0xffff));
  return Math.max(MIN_INTERFACE_MTU, underlayMtu - ENCAP_OVERHEAD[encapsulation]);
}
