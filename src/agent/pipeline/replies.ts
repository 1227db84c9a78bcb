// Answers the switch makes itself: a request's own packet turned into its reply and sent back where it came from
// (ovs-actions(7) move/set_field), through reply_out: out of in_port, or tagged out of a sub-interface's trunk. The network, routing and metadata flows all answer this way; kept apart from
// them because metadata.ts is imported by the interface flows that flows-network.ts itself imports.
import type { Action, Flow, Match } from '../../openflow/types.js';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  apply,
  ETH_TYPE_ARP,
  exact,
  flow,
  ICMP_ECHO_REPLY,
  move,
  range,
  resubmit,
  setField,
  whole,
} from './build.js';
import { TMP_MAC_HI, TMP_MAC_LO } from './registers.js';
import type { TableName } from './tables.js';

/**
 * In-switch ARP reply from `mac`: the request becomes the answer, back where it came from. The answer's sender address
 * is `ip`, or with 'asked' whatever address the request asked for (one flow answers for a whole range of them).
 */
export function arpReplyActions(mac: bigint, ip: number | 'asked'): Action[] {
  const sender =
    ip === 'asked'
      ? // The asked-for address becomes the answer's sender, the asker's its target (swapped through scratch).
        [
          move(whole('arp_tpa', 32), range(TMP_MAC_LO)),
          move(whole('arp_spa', 32), whole('arp_tpa', 32)),
          move(range(TMP_MAC_LO), whole('arp_spa', 32)),
        ]
      : [move(whole('arp_spa', 32), whole('arp_tpa', 32)), setField('arp_spa', ip)];
  return [
    move(whole('eth_src', 48), whole('eth_dst', 48)),
    setField('eth_src', mac),
    setField('arp_op', ARPOP_REPLY),
    move(whole('arp_sha', 48), whole('arp_tha', 48)),
    setField('arp_sha', mac),
    ...sender,
    resubmit('reply_out'),
  ];
}

/** The flow in `table` answering ARP requests for `ip` (among packets matching `on`) from `mac`. */
export function arpAnswerFlow(
  table: TableName,
  priority: number,
  cookie: bigint,
  on: Match,
  mac: bigint,
  ip: number,
): Flow {
  return flow(
    table,
    priority,
    cookie,
    { ...on, eth_type: exact(ETH_TYPE_ARP), arp_op: exact(ARPOP_REQUEST), arp_tpa: exact(ip) },
    [apply(...arpReplyActions(mac, ip))],
  );
}

/**
 * In-switch ICMP echo reply from router address `ip`, back where the request came from. The reply's source MAC is the
 * router MAC the VM addressed (the request's eth_dst): swapped through scratch registers, so one flow per
 * router address serves every network on the link.
 */
export function echoReplyActions(ip: number): Action[] {
  return [
    move(whole('eth_dst', 32), range(TMP_MAC_LO)),
    move({ field: 'eth_dst', start: 32, nBits: 16 }, range(TMP_MAC_HI)),
    move(whole('eth_src', 48), whole('eth_dst', 48)),
    move(range(TMP_MAC_LO), whole('eth_src', 32)),
    move(range(TMP_MAC_HI), { field: 'eth_src', start: 32, nBits: 16 }),
    move(whole('ipv4_src', 32), whole('ipv4_dst', 32)),
    setField('ipv4_src', ip),
    setField('icmpv4_type', ICMP_ECHO_REPLY),
    resubmit('reply_out'),
  ];
}
