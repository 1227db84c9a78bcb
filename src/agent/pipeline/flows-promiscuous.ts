// A promiscuous port (OpenVNet's PROMISCUOUS_PORT table): an outside L2 network bridged into a network or segment
// through one switch port. The model knows every VM MAC of the network, so whatever else is unicast in it is
// behind a promiscuous port: that is where unknown unicast goes, from every host (see docs/pipeline.md).
import type { Action, FieldRange, Flow, Match } from '../../openflow/types.js';
import { MAC_MULTICAST_BIT } from './addr.js';
import { apply, flow, goto, loadZone, output, range, writeNetwork } from './build.js';
import type { CompileContext } from './compile-context.js';
import { cookieFor } from './cookies.js';
import { tunnelActions } from './locate.js';
import type { Location } from './locate.js';
import { matchFlag, NETWORK_KEY } from './registers.js';
import { TABLE } from './tables.js';
import type { Interface } from '../../model/types.js';

/**
 * How long a MAC learned behind a promiscuous port stays without traffic to it (seconds): a Linux bridge's ageing
 * time. A MAC that moved away is reached through the unknown-unicast flow meanwhile (and relearned where it went).
 */
export const LEARNED_MAC_IDLE_TIMEOUT = 300;

export const PRIO_PROMISC = {
  classify: 100,
  /** A promiscuous port's unicast sources; multicast sources (invalid) miss and are dropped. */
  learn: 100,
  /**
   * l2_lookup: a learned MAC. Below the model's own MACs (100), so a MAC that moved from behind the port to a VM is
   * the VM's at once, and a frame forging a VM's MAC from outside cannot divert the VM's traffic; above flood (50),
   * which it never meets (it matches unicast only).
   */
  learned: 70,
  /** l2_lookup: unicast to no MAC of the model or learned: to the promiscuous ports (and a physical network's uplink). */
  unknown: 10,
} as const;

export function isPromiscuous(i: Interface): boolean {
  return i.mode === 'promiscuous';
}

/**
 * The flows of a promiscuous port bound here to `ofport`, bridging into the network or segment with `key`/`zone`:
 * classified to promiscuous_port, where no source is checked (the port carries many MACs) and each unicast source
 * is learned into l2_lookup — unless `learn` is false (the datapath's enable_ovs_learn_action: a switch without
 * learn()), when unknown unicast alone reaches the port.
 */
export function promiscuousPortFlows(
  uuid: string,
  ofport: number,
  into: { key: number; zone: number },
  learn: boolean,
): Flow[] {
  const learnAction: Action = {
    type: 'learn',
    table: TABLE.l2_lookup,
    priority: PRIO_PROMISC.learned,
    cookie: cookieFor('interface', uuid, 'learned'),
    idleTimeout: LEARNED_MAC_IDLE_TIMEOUT,
    specs: [
      { kind: 'match-value', dst: range(NETWORK_KEY), value: BigInt(into.key) },
      { kind: 'match-field', dst: MAC('eth_dst'), src: MAC('eth_src') },
      { kind: 'output', src: { field: 'in_port', start: 0, nBits: 16 } },
    ],
  };
  return [
    flow(
      'classifier',
      PRIO_PROMISC.classify,
      cookieFor('interface', uuid, 'classify'),
      { in_port: { value: ofport } },
      [goto('promiscuous_port')],
    ),
    flow(
      'promiscuous_port',
      PRIO_PROMISC.learn,
      cookieFor('interface', uuid, 'classify'),
      { in_port: { value: ofport }, eth_src: { value: 0n, mask: MAC_MULTICAST_BIT } },
      [apply(loadZone(into.zone), ...(learn ? [learnAction] : [])), writeNetwork(into.key), goto('arp_responder')],
    ),
  ];
}

function MAC(field: 'eth_src' | 'eth_dst'): FieldRange {
  return { field, start: 0, nBits: 48 };
}

/** Whether this host's switch may use learn() (the datapath's enable_ovs_learn_action, true unless set false). */
export function learnsHere(ctx: CompileContext): boolean {
  const dp = ctx.local.datapathUuid;
  if (!dp) return true;
  ctx.dep(`datapaths:${dp}`);
  return ctx.view.datapaths.get(dp)?.enable_ovs_learn_action !== false;
}

/** The promiscuous ports of one network or segment: bound here, and the other hosts that have one. */
export class PromiscuousPorts {
  readonly local: number[] = [];
  readonly remote = new Map<string, { ip: number; tunnelPort: number }>();

  /** Notes member `i` at `loc` when it is a promiscuous port (remote ones only where they are tunnelled to). */
  add(i: Interface, loc: Location, tunnelled: boolean): void {
    if (!isPromiscuous(i)) return;
    if (loc.kind === 'local') this.local.push(loc.ofport);
    else if (loc.kind === 'remote' && tunnelled) this.remote.set(loc.datapathUuid, loc);
  }

  get any(): boolean {
    return this.local.length > 0 || this.remote.size > 0;
  }

  /**
   * l2_lookup's unknown unicast of the network or segment `on`: from here (not `outside`) to the local promiscuous
   * ports, tunnelled once to each host with one, and out of `uplink` (a physical network's: the segment knows
   * its other hosts); from outside (a tunnel or the uplink) to the local promiscuous ports only (split horizon).
   */
  unknownUnicastFlows(cookie: bigint, on: Match, outside: FieldRange, key: number, uplink: Action[]): Flow[] {
    const local = [...this.local].sort((a, b) => a - b).map(output);
    const hosts = [...this.remote.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const away = [...uplink, ...hosts.flatMap(([, h]) => tunnelActions(key, h.ip, h.tunnelPort))];
    const unicast = { eth_dst: { value: 0n, mask: MAC_MULTICAST_BIT } };
    const out: Flow[] = [];
    if (local.length + away.length > 0)
      out.push(
        flow('l2_lookup', PRIO_PROMISC.unknown, cookie, { ...on, ...unicast, ...matchFlag(outside, false) }, [
          apply(...local, ...away),
        ]),
      );
    if (local.length > 0)
      out.push(
        flow('l2_lookup', PRIO_PROMISC.unknown, cookie, { ...on, ...unicast, ...matchFlag(outside, true) }, [
          apply(...local),
        ]),
      );
    return out;
  }
}
