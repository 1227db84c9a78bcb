// DNS services: the records a dns network service answers, and its upstream servers.
import { f, item, resource, SET } from '../resource.js';
import { DNS_NAME, timestamps, uuidField } from './common.js';

export const dnsRecords = item({
  segment: 'dns_records',
  max: 10_000,
  field: 'dns_records',
  prefix: 'dnsr',
  doc: 'the records of the service',
  fields: {
    uuid: uuidField('dnsr', "the record's"),
    name: f.string({ create: 'required', doc: 'host name' }, 253, DNS_NAME),
    ipv4_address: f.ipv4({ create: 'required', doc: 'its address' }),
  },
});

export const dnsServices = resource({
  kind: 'dns_services',
  prefix: 'dnss',
  doc: 'DNS services and their records',
  fields: {
    uuid: uuidField('dnss'),
    network_service_uuid: f.ref('ns', 'cascade', { ...SET.fixed, filter: true, doc: 'the dns network service' }),
    public_dns: f.ipv4list({ ...SET.clearable, doc: 'comma-separated upstream DNS servers' }),
    dns_records: f.list(dnsRecords.schema, { doc: 'its records (dns_services dns_records add)' }),
    ...timestamps,
  },
});
