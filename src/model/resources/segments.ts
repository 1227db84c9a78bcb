// Segments: OpenVNet's L2 segments without IP — interfaces with segment_uuid and no network share one broadcast
// domain across hosts: virtual ones tunnelled with the segment's own key (from the networks' key space), physical
// ones carried on the hosts' uplinks (flat or one VLAN) like physical networks; isolated like networks.
import { f, resource, SET } from '../resource.js';
import { displayName, timestamps, topologyUuid, uuidField } from './common.js';

export const segments = resource({
  kind: 'segments',
  prefix: 'seg',
  doc: 'L2 segments (interfaces with segment_uuid and no network; addresses configured in the VMs)',
  fields: {
    uuid: uuidField('seg'),
    display_name: displayName,
    mode: f.enum(['physical', 'virtual'], {
      ...SET.editable,
      filter: true,
      default: 'virtual',
      doc: "virtual (default; tunnelled between hosts) | physical (on the hosts' uplinks that datapath_segments rows name, never tunnelled)",
    }),
    vlan_id: f.int(1, 4094, {
      ...SET.clearable,
      filter: true,
      doc: "physical segments: the VLAN tag on the hosts' uplinks (null: flat, untagged); one network or segment per tag",
    }),
    topology_uuid: topologyUuid,
    tunnel_key: f.int(1, 0xffffff, {
      immutable: true,
      doc: "24-bit tunnel key, allocated by the server from the networks' key space",
    }),
    ct_zone: f.int(1, 0xffff, {
      immutable: true,
      doc: "16-bit conntrack zone (filtered interfaces on it), allocated by the server from the networks' zones",
    }),
    ...timestamps,
  },
});
