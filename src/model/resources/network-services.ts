// Network services: DHCP, DNS and router services served on (simulated) interfaces.
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const NETWORK_SERVICE_MODES = ['dhcp', 'dns', 'router'] as const;

export const networkServices = resource({
  kind: 'network_services',
  singular: 'network_service',
  prefix: 'ns',
  doc: 'DHCP, DNS and router services on simulated interfaces',
  fields: {
    uuid: uuidField('ns'),
    display_name: displayName,
    mode: f.enum([...NETWORK_SERVICE_MODES], {
      create: 'nullable',
      update: 'nullable',
      filter: true,
      nullable: true,
      doc: 'dhcp | dns | router',
    }),
    type: f.enum([...NETWORK_SERVICE_MODES], {
      create: 'optional',
      update: 'optional',
      paramOnly: true,
      doc: 'old spelling of mode',
    }),
    interface_uuid: f.uuid('if', {
      create: 'nullable',
      update: 'nullable',
      filter: true,
      nullable: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'the simulated interface (if-…) that serves',
    }),
    incoming_port: f.int(0, 65535, {
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'service port it listens on',
    }),
    outgoing_port: f.int(0, 65535, {
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'service port it answers from',
    }),
    ...timestamps,
  },
});
