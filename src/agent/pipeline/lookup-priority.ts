// l3_lookup's priorities, shared by its three kinds of flows: routes (flows-routing.ts), the way to a router's
// snat gateway (gateway.ts) and floating IPs' translations (flows-routing.ts).

/**
 * For one destination prefix: a port translation (its VM's source port) beats a floating IP's whole-address
 * translation, which beats the way to the gateway, which beats the route.
 */
const KIND = { route: 0, gateway: 1, floating: 2, floatingPort: 3 } as const;

/**
 * The priority of an l3_lookup flow for a destination prefix of `len` bits (100..230): the longest prefix wins,
 * whatever kind of flow serves it; only for the same prefix does the kind decide. (Ranking the kinds above every
 * prefix — floating IPs at 200 + length, the way to the gateway at 150 + length — sent a VM's packets for another
 * inside network of its router out of the uplink, or to the gateway: the default route's translation beat the
 * /24's route.)
 */
export function lookupPriority(len: number, kind: keyof typeof KIND): number {
  return 100 + 4 * len + KIND[kind];
}
