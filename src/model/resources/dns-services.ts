// DNS services: the records a dns network service answers, and its upstream servers.
import { f, item, resource } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

export const dnsRecords = item({
  segment: 'dns_records',
  field: 'dns_records',
  prefix: 'dnsr',
  doc: 'the records of the service',
  fields: {
    uuid: f.uuid('dnsr', { create: 'optional', doc: "the record's uuid (dnsr-…); generated when omitted" }),
    name: f.string({ create: 'required', doc: 'host name' }, 253, { re: DNS_NAME, text: 'a DNS name' }),
    ipv4_address: f.ipv4({ create: 'required', doc: 'its address' }),
  },
});

export const dnsServices = resource({
  kind: 'dns_services',
  singular: 'dns_service',
  prefix: 'dnss',
  doc: 'DNS services and their records',
  fields: {
    uuid: uuidField('dnss'),
    network_service_uuid: f.uuid('ns', {
      create: 'required',
      filter: true,
      ref: { kind: 'network_services', onDelete: 'cascade' },
      doc: 'the dns network service (ns-…)',
    }),
    public_dns: f.ipv4list({
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'comma-separated upstream DNS servers',
    }),
    dns_records: f.list(dnsRecords.schema, { doc: 'its records (dns_services dns_records add)' }),
    ...timestamps,
  },
});
