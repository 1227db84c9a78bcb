// DNS services: the records a dns network service answers, and its upstream servers.
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

export const dnsRecords = item({
  segment: 'dns_records',
  field: 'dns_records',
  prefix: 'dnsr',
  doc: 'the records of the service',
  fields: {
    uuid: uuidField('dnsr', "the record's"),
    name: f.string({ create: 'required', doc: 'host name' }, 253, { re: DNS_NAME, text: 'a DNS name' }),
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
