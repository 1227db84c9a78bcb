// Segments: OpenVNet's L2 segments without IP — interfaces with segment_uuid and no network share one broadcast
// domain across hosts, tunnelled with the segment's own key (from the networks' key space), isolated like networks.
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
      doc: 'virtual (default; tunnelled between hosts) | physical (refused: not supported)',
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
