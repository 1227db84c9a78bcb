// Pipeline-wide flows: every table's miss, tunnel port classification, the IPv6 drop, conntrack dispatch.
import type { Flow } from '../../openflow/types.js';
import {
  apply,
  CS,
  ct,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  exact,
  flow,
  goto,
  load,
  loadFromTunnel,
  output,
  PRIO_MISS,
  VLAN_PRESENT,
} from './build.js';
import { pipelineCookie } from './cookies.js';
import type { CompileContext } from './compile-context.js';
import { ACL } from './flows-security.js';
import { metadataPortFlows } from './metadata.js';
import { CT_BLOCKED_EGRESS, CT_BLOCKED_INGRESS, matchFlag } from './registers.js';
import { missTarget, TABLES, type TableName } from './tables.js';
import { OFPP } from '../../openflow/types.js';

/** Priorities of the static flows (why each level exists is in docs/pipeline.md). */
export const PRIO = {
  tunnelPort: 100,
  /** classifier: a tagged frame no sub-interface or uplink claims. */
  unknownTag: 5,
  ipv6Drop: 200,
  ctDispatch: 10,
  nonIpPass: 1,
  ctInvalid: 65000,
  ctReply: 64000,
  ctBlockedReply: 63000,
  verdictCommit: 300,
  verdictAllow: 200,
  verdictBlock: 100,
  unsnat: 100,
} as const;

export function staticFlows(ctx: CompileContext): Flow[] {
  const out: Flow[] = [];
  // Table misses. A 'drop' miss is still an explicit flow so its packet counter says how much was dropped.
  TABLES.forEach((t, i) => {
    const name = t.name as TableName;
    const next = missTarget(t, i);
    if (t.miss === 'next' && next) out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, [goto(next)]));
    else if (t.miss === 'drop' || t.miss === 'next') out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, []));
    else if (t.miss === 'in_port')
      out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, [apply(output(OFPP.IN_PORT))]));
    else out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, [apply(output(OFPP.CONTROLLER))]));
  });

  // Tunnel ports: mark the packet so it is never tunnelled again (split horizon), then map its key.
  for (const port of [ctx.local.tunnelPorts.gre, ctx.local.tunnelPorts.vxlan]) {
    if (port === null) continue;
    out.push(
      flow('classifier', PRIO.tunnelPort, pipelineCookie('tunnel'), { in_port: exact(port) }, [
        apply(loadFromTunnel()),
        goto('tunnel_ingress'),
      ]),
    );
  }

  // The agent's metadata port, when it has one (its traffic, and ARP for 169.254.169.254).
  out.push(...metadataPortFlows(ctx.local));

  // IPv6 from VMs: virtual networks are IPv4-only for now; one flow so its counter shows how much was dropped.
  // A VM port's tagged frames are its sub-interfaces' (trunk.ts, above this) or nobody's: never the port's own
  // network with the tag still on. Uplink, tunnel and metadata ports are classified above this too.
  out.push(
    flow(
      'classifier',
      PRIO.unknownTag,
      pipelineCookie('vlan'),
      { vlan_vid: { value: VLAN_PRESENT, mask: VLAN_PRESENT } },
      [],
    ),
  );
  out.push(flow('port_security', PRIO.ipv6Drop, pipelineCookie('ipv6'), { eth_type: exact(ETH_TYPE_IPV6) }, []));

  // Conntrack dispatch for filtered interfaces: IPv4 goes through ct() in the network's zone (reg5) and
  // continues in the ACL table with ct_state; ARP and other non-IP traffic is not filtered.
  out.push(
    flow('egress_ct', PRIO.ctDispatch, pipelineCookie('filter'), { eth_type: exact(ETH_TYPE_IP) }, [
      apply(ct({ table: 'egress_acl' })),
    ]),
    flow('egress_ct', PRIO.nonIpPass, pipelineCookie('filter'), {}, [goto('arp_responder')]),
    flow('ingress_ct', PRIO.ctDispatch, pipelineCookie('filter'), { eth_type: exact(ETH_TYPE_IP) }, [
      apply(ct({ table: 'ingress_acl' })),
    ]),
    flow('ingress_ct', PRIO.nonIpPass, pipelineCookie('filter'), {}, [goto('output')]),
  );
  // Invalid packets are dropped. Replies of live connections (no blocked bit) and related packets (ICMP errors)
  // pass without consulting the rules: that is what makes the filters stateful. Replies of blocked connections
  // drop. Everything else (the request direction, new or established) meets the rules, then the verdict.
  const ipTracked = (bits: number, mask: number) => ({
    eth_type: exact(ETH_TYPE_IP),
    ct_state: { value: CS.trk | bits, mask: CS.trk | mask },
  });
  const notBlocked = matchFlag([CT_BLOCKED_EGRESS, CT_BLOCKED_INGRESS], false);
  for (const d of [ACL.egress, ACL.ingress]) {
    const cookie = pipelineCookie('filter');
    const allowed = matchFlag(d.allowed, true);
    out.push(
      flow(d.acl, PRIO.ctInvalid, cookie, { ct_state: { value: CS.trk | CS.inv, mask: CS.trk | CS.inv } }, []),
      flow(d.acl, PRIO.ctReply, cookie, { ...ipTracked(CS.est | CS.rpl, CS.est | CS.rpl), ...notBlocked }, [
        goto(d.next),
      ]),
      flow(d.acl, PRIO.ctReply, cookie, ipTracked(CS.rel, CS.rel | CS.est), [goto(d.next)]),
      flow(d.acl, PRIO.ctBlockedReply, cookie, ipTracked(CS.rpl, CS.rpl), []),
      // The verdict. A new allowed connection is committed, so its replies pass.
      flow(d.verdict, PRIO.verdictCommit, cookie, { ...ipTracked(CS.new, CS.new), ...allowed }, [
        apply(ct({ commit: true })),
        goto(d.next),
      ]),
      // An allowed established connection this direction had blocked is unblocked (the rule is back).
      flow(
        d.verdict,
        PRIO.verdictCommit,
        cookie,
        { ...ipTracked(CS.est, CS.est), ...allowed, ...matchFlag(d.blocked, true) },
        [apply(ct({ commit: true, exec: [load(d.blocked, 0)] })), goto(d.next)],
      ),
      flow(d.verdict, PRIO.verdictAllow, cookie, allowed, [goto(d.next)]),
      // Established but no longer allowed: marked blocked (its replies drop in the acl table), then dropped.
      flow(d.verdict, PRIO.verdictBlock, cookie, ipTracked(CS.est, CS.est), [
        apply(ct({ commit: true, exec: [load(d.blocked, 1)] })),
      ]),
    );
  }
  // Back from a gateway's conntrack zone with the inside address restored: replies and related packets (ICMP
  // errors) of translated connections are routed; nothing else is (no connection: nobody asked for it).
  for (const bit of [CS.rpl, CS.rel])
    out.push(
      flow(
        'unsnat',
        PRIO.unsnat,
        pipelineCookie('snat'),
        { ct_state: { value: CS.trk | bit, mask: CS.trk | CS.inv | bit } },
        [goto('l3_routing')],
      ),
    );
  return out;
}
