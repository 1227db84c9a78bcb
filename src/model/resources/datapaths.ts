// Datapaths: one Open vSwitch bridge per host, driven by that host's agent.
import { f, resource, SET } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const datapaths = resource({
  kind: 'datapaths',
  prefix: 'dp',
  doc: 'Open vSwitch bridges, one per host, each driven by an agent',
  fields: {
    uuid: uuidField('dp'),
    display_name: displayName,
    dpid: f.dpid({ ...SET.required, filter: true, doc: 'the bridge datapath id, hex (0x000002fdee8e0a44)' }),
    node_id: f.string({ ...SET.required, filter: true, doc: 'the id of the agent (vna) that owns the bridge' }),
    ipv4_address: f.ipv4({ ...SET.clearable, report: 'optional', doc: "the host's tunnel endpoint (underlay IPv4)" }),
    dc_segment_id: f.string({ ...SET.clearable, doc: 'OpenVNet 0.x data-center segment id (stored)' }),
    enable_ovs_learn_action: f.bool({ ...SET.editable, default: true, doc: 'let flows use OVS learn()' }),
    is_connected: f.bool({
      status: true,
      report: 'required',
      default: false,
      doc: 'its agent holds the switch connection',
    }),
    flows_in_sync: f.bool({
      status: true,
      report: 'required',
      default: false,
      doc: 'the switch holds exactly the desired flows',
    }),
    last_error: f.string(
      { status: true, report: 'nullable', nullable: true, doc: "the agent's last error, null when healthy" },
      4096,
    ),
    reported_node_id: f.string({
      status: true,
      report: 'required',
      nullable: true,
      doc: 'the node id of the agent that reported last',
    }),
    // How other hosts must tunnel to this one (the agent's --encap); senders follow it, so it is spec for flows.
    encap: f.enum(['gre', 'vxlan'], {
      report: 'optional',
      nullable: true,
      doc: 'the encapsulation its agent asks senders to use (null until reported: gre)',
    }),
    ...timestamps,
  },
  deleteNotes: [
    "interfaces the datapath's agent reported bound there are reported down",
    'interfaces it owns lose their port there (owner_datapath_uuid and port_name cleared), as in OpenVNet',
  ],
});
