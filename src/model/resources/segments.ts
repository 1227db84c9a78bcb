// Segments: OpenVNet's L2 segments (stored; networks and leases may name one).
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const segments = resource({
  kind: 'segments',
  singular: 'segment',
  prefix: 'seg',
  doc: 'L2 segments',
  fields: {
    uuid: uuidField('seg'),
    display_name: displayName,
    mode: f.enum(['physical', 'virtual'], {
      create: 'optional',
      update: 'optional',
      filter: true,
      doc: 'virtual (default) | physical',
    }),
    topology_uuid: f.string({ create: 'nullable', update: 'nullable', nullable: true, doc: 'topology (topo-…)' }),
    ...timestamps,
  },
});
