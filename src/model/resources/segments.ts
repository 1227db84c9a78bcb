// Segments: OpenVNet's L2 segments (stored; networks and leases may name one).
import { f, resource, SET } from '../resource.js';
import { displayName, timestamps, topologyUuid, uuidField } from './common.js';

export const segments = resource({
  kind: 'segments',
  prefix: 'seg',
  doc: 'L2 segments',
  fields: {
    uuid: uuidField('seg'),
    display_name: displayName,
    mode: f.enum(['physical', 'virtual'], {
      ...SET.editable,
      filter: true,
      default: 'virtual',
      doc: 'virtual (default) | physical',
    }),
    topology_uuid: topologyUuid,
    ...timestamps,
  },
});
