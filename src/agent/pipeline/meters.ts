// OpenFlow meters the pipeline's flows refer to (OF 1.3 §7.3.4.4). The runtime installs every meter the desired
// flows name before those flows, and deletes a meter once no flow names it.
import type { Flow } from '../../openflow/types.js';

/** One meter: a single drop band, in packets per second. */
export interface MeterSpec {
  id: number;
  name: string;
  purpose: string;
  /** Band rate in packets per second (OFPMF_PKTPS). */
  ratePps: number;
  /** Burst size in packets (OFPMF_BURST). */
  burst: number;
}

/**
 * The agent's budget for ICMP errors it makes ("fragmentation needed" for frames too big for a virtual network):
 * path MTU discovery needs one per flow and size, so 100/s is plenty; a flood of big frames costs no more.
 */
export const ICMP_ERROR_METER: MeterSpec = {
  id: 2,
  name: 'icmp-error',
  purpose: 'rate-limit packet-ins of frames too big for a virtual network (answered with ICMP)',
  ratePps: 100,
  burst: 50,
};

/** Per-port DHCP meters are numbered from here: id = base + ofport (ofports end at 0xfeff, below OFPM_MAX). */
export const DHCP_PORT_METER_BASE = 0x10000;

/**
 * One VM's DHCP budget, so a VM flooding DISCOVERs uses up only its own: a lease takes 2–4 packets and a
 * client retries about once a second, so 20/s with a burst of 20 never slows a real client.
 */
export function dhcpPortMeter(ofport: number): MeterSpec {
  return {
    id: DHCP_PORT_METER_BASE + ofport,
    name: `dhcp-port-${ofport}`,
    purpose: `rate-limit DHCP packet-ins from OpenFlow port ${ofport}`,
    ratePps: 20,
    burst: 20,
  };
}

/**
 * Per-network DHCP meters are numbered from here: id = base + tunnel key modulo NETWORK_METERS. OVS refuses meter
 * ids above its max_meters (2^18 on the userspace datapath), so DHCP's and DNS's per-network meters share the top
 * half of that space (65,536 each): past 65,536 networks two share a budget.
 */
export const DHCP_NETWORK_METER_BASE = 0x20000;
const NETWORK_METERS = 0x10000;

/**
 * One network's (tenant's) DHCP budget, after each VM's own: 50 flooding VMs of one tenant fill only their
 * network's budget, never another tenant's (a bridge-wide budget let them starve every network on the host).
 * 200/s serves ten VMs booting at once with room; the agent answers ~10,000/s, so it is not the bottleneck.
 */
export function dhcpNetworkMeter(tunnelKey: number): MeterSpec {
  const slot = tunnelKey % NETWORK_METERS;
  return {
    id: DHCP_NETWORK_METER_BASE + slot,
    name: `dhcp-network-${slot}`,
    purpose: `rate-limit DHCP packet-ins of the network with tunnel key ${slot} (mod ${NETWORK_METERS})`,
    ratePps: 200,
    burst: 100,
  };
}

/** Per-port DNS meters: id = base + ofport, below the DHCP port meters (0x100 + 0xfeff = 0xffff). */
export const DNS_PORT_METER_BASE = 0x100;

/**
 * One VM's DNS budget: a resolver asks A and AAAA for each name (and each search domain), so a busy VM asks tens a
 * second; 200/s with a burst of 100 never slows one, and a VM flooding queries spends only this.
 */
export function dnsPortMeter(ofport: number): MeterSpec {
  return {
    id: DNS_PORT_METER_BASE + ofport,
    name: `dns-port-${ofport}`,
    purpose: `rate-limit DNS packet-ins from OpenFlow port ${ofport}`,
    ratePps: 200,
    burst: 100,
  };
}

/** Per-network DNS meters: id = base + tunnel key modulo NETWORK_METERS (beside DHCP's). */
export const DNS_NETWORK_METER_BASE = 0x30000;

/** One network's (tenant's) DNS budget after each VM's own, so one tenant's VMs together cannot starve another's. */
export function dnsNetworkMeter(tunnelKey: number): MeterSpec {
  const slot = tunnelKey % NETWORK_METERS;
  return {
    id: DNS_NETWORK_METER_BASE + slot,
    name: `dns-network-${slot}`,
    purpose: `rate-limit DNS packet-ins of the network with tunnel key ${slot} (mod ${NETWORK_METERS})`,
    ratePps: 1000,
    burst: 500,
  };
}

/** The meter behind an id a flow names, or null for an id the pipeline never uses. */
export function meterSpec(id: number): MeterSpec | null {
  if (id === ICMP_ERROR_METER.id) return ICMP_ERROR_METER;
  const dnsPort = id - DNS_PORT_METER_BASE;
  if (dnsPort >= 1 && dnsPort <= 0xfeff) return dnsPortMeter(dnsPort);
  const ofport = id - DHCP_PORT_METER_BASE;
  if (ofport >= 1 && ofport <= 0xfeff) return dhcpPortMeter(ofport);
  const slot = id - DHCP_NETWORK_METER_BASE;
  if (slot >= 0 && slot < NETWORK_METERS) return dhcpNetworkMeter(slot);
  const dnsSlot = id - DNS_NETWORK_METER_BASE;
  if (dnsSlot >= 0 && dnsSlot < NETWORK_METERS) return dnsNetworkMeter(dnsSlot);
  return null;
}

/** Meter ids named by a flow's meter instructions. */
export function metersOf(f: Flow, into: Set<number> = new Set()): Set<number> {
  for (const ins of f.instructions) if (ins.type === 'meter') into.add(ins.meterId);
  return into;
}
