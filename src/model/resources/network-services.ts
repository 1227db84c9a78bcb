// Network services: DHCP, DNS and router services served on (simulated) interfaces.
import { f, resource, SET } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const NETWORK_SERVICE_MODES = ['dhcp', 'dns', 'router'] as const;

export const networkServices = resource({
  kind: 'network_services',
  prefix: 'ns',
  doc: 'DHCP, DNS and router services on simulated interfaces',
  fields: {
    uuid: uuidField('ns'),
    display_name: displayName,
    mode: f.enum([...NETWORK_SERVICE_MODES], { ...SET.clearable, filter: true, doc: 'dhcp | dns | router' }),
    type: f.enum([...NETWORK_SERVICE_MODES], {
      ...SET.editable,
      paramOnly: true,
      aliasOf: 'mode',
      doc: 'old spelling of mode',
    }),
    interface_uuid: f.ref('if', 'cascade', { ...SET.clearable, filter: true, doc: 'the simulated interface serving' }),
    incoming_port: f.int(0, 65535, { ...SET.clearable, doc: 'service port it listens on' }),
    outgoing_port: f.int(0, 65535, { ...SET.clearable, doc: 'service port it answers from' }),
    ...timestamps,
  },
});
