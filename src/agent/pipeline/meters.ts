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

/**
 * The meters of a packet-in service (DHCP, DNS): one per port, so a VM flooding it uses up only its own budget,
 * and one per network (tenant) after it, so one tenant's VMs together cannot starve another's (a bridge-wide
 * budget let them starve every network on the host).
 *
 * Ids: a port's is its family's base + ofport (ofports end at 0xfeff); a network's is the base + tunnel key modulo
 * NETWORK_METERS. OVS refuses meter ids above its max_meters (2^18 on the userspace datapath), so DHCP's and DNS's
 * per-network meters share the top half of that space (65,536 each): past 65,536 networks two share a budget.
 */
const NETWORK_METERS = 0x10000;
const MAX_OFPORT = 0xfeff;

interface MeterFamily {
  service: 'dhcp' | 'dns';
  per: 'port' | 'network';
  base: number;
  ratePps: number;
  burst: number;
}

const FAMILIES = {
  /**
   * DNS from one VM: a resolver asks A and AAAA for each name (and each search domain), so a busy VM asks tens a
   * second; 200/s with a burst of 100 never slows one. Below the DHCP port meters (0x100 + 0xfeff = 0xffff).
   */
  dnsPort: { service: 'dns', per: 'port', base: 0x100, ratePps: 200, burst: 100 },
  /**
   * DHCP from one VM: a lease takes 2–4 packets and a client retries about once a second, so 20/s with a burst
   * of 20 never slows a real client.
   */
  dhcpPort: { service: 'dhcp', per: 'port', base: 0x10000, ratePps: 20, burst: 20 },
  /** DHCP of one network: 200/s serves ten VMs booting at once with room (the agent answers ~10,000/s). */
  dhcpNetwork: { service: 'dhcp', per: 'network', base: 0x20000, ratePps: 200, burst: 100 },
  /** DNS of one network, beside DHCP's. */
  dnsNetwork: { service: 'dns', per: 'network', base: 0x30000, ratePps: 1000, burst: 500 },
} as const satisfies Record<string, MeterFamily>;

/** The meter of `family` for port `ofport` or, per network, for the network with tunnel key `key`. */
function familyMeter(family: MeterFamily, n: number): MeterSpec {
  const { service, per, base, ratePps, burst } = family;
  const slot = per === 'port' ? n : n % NETWORK_METERS;
  const SERVICE = service.toUpperCase();
  return {
    id: base + slot,
    name: `${service}-${per}-${slot}`,
    purpose:
      per === 'port'
        ? `rate-limit ${SERVICE} packet-ins from OpenFlow port ${slot}`
        : `rate-limit ${SERVICE} packet-ins of the network with tunnel key ${slot} (mod ${NETWORK_METERS})`,
    ratePps,
    burst,
  };
}

/** One VM's DHCP budget. */
export const dhcpPortMeter = (ofport: number): MeterSpec => familyMeter(FAMILIES.dhcpPort, ofport);
/** One network's (tenant's) DHCP budget, after each VM's own. */
export const dhcpNetworkMeter = (tunnelKey: number): MeterSpec => familyMeter(FAMILIES.dhcpNetwork, tunnelKey);
/** One VM's DNS budget. */
export const dnsPortMeter = (ofport: number): MeterSpec => familyMeter(FAMILIES.dnsPort, ofport);
/** One network's (tenant's) DNS budget, after each VM's own. */
export const dnsNetworkMeter = (tunnelKey: number): MeterSpec => familyMeter(FAMILIES.dnsNetwork, tunnelKey);

/** The meter behind an id a flow names, or null for an id the pipeline never uses. */
export function meterSpec(id: number): MeterSpec | null {
  if (id === ICMP_ERROR_METER.id) return ICMP_ERROR_METER;
  for (const family of Object.values(FAMILIES)) {
    const n = id - family.base;
    const ok = family.per === 'port' ? n >= 1 && n <= MAX_OFPORT : n >= 0 && n < NETWORK_METERS;
    if (ok) return familyMeter(family, n);
  }
  return null;
}

/** Meter ids named by a flow's meter instructions. */
export function metersOf(f: Flow, into: Set<number> = new Set()): Set<number> {
  for (const ins of f.instructions) if (ins.type === 'meter') into.add(ins.meterId);
  return into;
}
