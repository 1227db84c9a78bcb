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
  loadFromTunnel,
  OFPCML_NO_BUFFER,
  output,
  PRIO_MISS,
} from './build.js';
import { pipelineCookie } from './cookies.js';
import type { CompileContext } from './flows.js';
import { DHCP_METER } from './meters.js';
import { missTarget, TABLES, type TableName } from './tables.js';
import { OFPP } from '../../openflow/types.js';

/** Priorities of the static flows (why each level exists is in docs/pipeline.md). */
export const PRIO = {
  tunnelPort: 100,
  ipv6Drop: 200,
  ctDispatch: 10,
  dhcpPunt: 10,
  nonIpPass: 1,
  ctInvalid: 65000,
  ctEstablished: 64000,
} as const;

export function staticFlows(ctx: CompileContext): Flow[] {
  const out: Flow[] = [];
  // Table misses. A 'drop' miss is still an explicit flow so its packet counter says how much was dropped.
  TABLES.forEach((t, i) => {
    const name = t.name as TableName;
    const next = missTarget(t, i);
    if (t.miss === 'next' && next) out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, [goto(next)]));
    else if (t.miss === 'drop' || t.miss === 'next') out.push(flow(name, PRIO_MISS, pipelineCookie('none'), {}, []));
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

  // IPv6 from VMs: virtual networks are IPv4-only for now; one flow so its counter shows how much was dropped.
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
  // Invalid packets are dropped; packets of committed connections (either direction) and related ones
  // (ICMP errors) pass without consulting the rules: that is what makes the filters stateful.
  for (const [acl, next] of [
    ['egress_acl', 'arp_responder'],
    ['ingress_acl', 'output'],
  ] as const) {
    out.push(
      flow(
        acl,
        PRIO.ctInvalid,
        pipelineCookie('filter'),
        { ct_state: { value: CS.trk | CS.inv, mask: CS.trk | CS.inv } },
        [],
      ),
      flow(
        acl,
        PRIO.ctEstablished,
        pipelineCookie('filter'),
        { ct_state: { value: CS.trk | CS.est, mask: CS.trk | CS.est } },
        [goto(next)],
      ),
      flow(
        acl,
        PRIO.ctEstablished,
        pipelineCookie('filter'),
        { ct_state: { value: CS.trk | CS.rel, mask: CS.trk | CS.rel | CS.est } },
        [goto(next)],
      ),
    );
  }
  // DHCP that passed its port's meter (services) meets the bridge-wide budget, then the agent.
  out.push(
    flow('dhcp_punt', PRIO.dhcpPunt, pipelineCookie('dhcp'), {}, [
      { type: 'meter', meterId: DHCP_METER.id },
      apply({ type: 'controller', maxLen: OFPCML_NO_BUFFER }),
    ]),
  );
  return out;
}
