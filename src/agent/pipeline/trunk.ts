// VLAN trunk ports: a VM port that carries sub-interfaces (parent_interface_uuid + vlan_tag), each its own
// interface in its own network. In the pipeline a sub-interface goes by a port number of its own (SubPortNumbers):
// the classifier pops its tag and loads that number as in_port, and every way out to it is built here as its
// parent's port with the tag pushed back — so everything between (anti-spoofing, ACLs, meters) is unchanged.
import type { Action, Flow } from '../../openflow/types.js';
import { pushVlanTag } from '../../packet/index.js';
import { apply, exact, flow, goto, move, output, pushVlan, range, VLAN_PRESENT } from './build.js';
import { SAVED_IN_PORT } from './registers.js';
import { cookieFor } from './cookies.js';
import type { Binding } from './model-view.js';

export const PRIO_TRUNK = {
  /** A sub-interface's tag on its parent's port. */
  classify: 100,
  reply: 100,
} as const;

/** Where frames to a local interface leave: its port, or for a sub-interface its parent's (`trunk`), tagged. */
export interface PortOut {
  ofport: number;
  trunk?: { ofport: number; vlan: number } | undefined;
}

const IN_PORT = { field: 'in_port', start: 0, nBits: 16 } as const;

/**
 * Out to a local interface. A sub-interface's frame leaves tagged on its parent's port — with in_port cleared
 * meanwhile, since that port may be the one it came in on — and the tag and in_port come back, so the actions
 * after it (a flood's next port) see the frame as before.
 */
export function toPort(p: PortOut): Action[] {
  if (!p.trunk) return [output(p.ofport)];
  return [
    move(IN_PORT, range(SAVED_IN_PORT)),
    { type: 'load', dst: IN_PORT, value: 0 },
    ...pushVlan(p.trunk.vlan),
    output(p.trunk.ofport),
    { type: 'pop_vlan' },
    move(range(SAVED_IN_PORT), IN_PORT),
  ];
}

/**
 * A bound sub-interface's own flows: its tag on its parent's port classifies it (tag popped, its number as
 * in_port, then port_security as for any port), and answers the switch makes to it go back tagged.
 */
export function subInterfaceFlows(uuid: string, b: Binding): Flow[] {
  const trunk = b.trunk;
  if (!trunk) return [];
  const cookie = cookieFor('interface', uuid, 'trunk');
  // NXM_OF_IN_PORT by load: OpenFlow forbids set_field on OXM in_port (OVS answers OFPBAC_BAD_SET_ARGUMENT).
  const inPort = { type: 'load', dst: IN_PORT, value: b.ofport } as const;
  return [
    flow(
      'classifier',
      PRIO_TRUNK.classify,
      cookie,
      { in_port: exact(trunk.ofport), vlan_vid: exact(VLAN_PRESENT | trunk.vlan) },
      [apply({ type: 'pop_vlan' }, inPort), goto('port_security')],
    ),
    flow('reply_out', PRIO_TRUNK.reply, cookie, { in_port: exact(b.ofport) }, [apply(...toPort(b))]),
  ];
}

/**
 * Where a frame the agent answers with (DHCP, DNS) leaves for a bound interface: its port, or for a sub-interface
 * its parent's port, tagged (a packet-out's output takes real ports only).
 */
export function packetOutTo(b: Binding, frame: Uint8Array): { outPort: number; data: Uint8Array } {
  return b.trunk
    ? { outPort: b.trunk.ofport, data: pushVlanTag(frame, b.trunk.vlan) }
    : { outPort: b.ofport, data: frame };
}
