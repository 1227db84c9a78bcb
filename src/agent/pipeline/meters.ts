// OpenFlow meters the pipeline's flows refer to (OF 1.3 §7.3.4.4); the runtime installs them before the flows.

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
 * The DHCP punt meter: a VM flooding DISCOVERs cannot starve the agent or other VMs' DHCP. 200/s with a burst
 * of 100 is far above what real clients need (a handful of packets per lease) and far below what a Node agent
 * handles.
 */
export const DHCP_METER: MeterSpec = {
  id: 1,
  name: 'dhcp',
  purpose: 'rate-limit DHCP packet-ins to the agent',
  ratePps: 200,
  burst: 100,
};

/** Every meter the pipeline uses. */
export const METERS: readonly MeterSpec[] = [DHCP_METER];
