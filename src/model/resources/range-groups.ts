// IP and MAC range groups: pools of addresses (a MAC range group can hand an interface its MAC).
import { f, item, resource } from '../resource.js';
import { timestamps, uuidField } from './common.js';

export const ipRanges = item({
  segment: 'ip_ranges',
  field: 'ip_ranges',
  prefix: 'ipr',
  doc: 'the ranges of the group',
  fields: {
    uuid: f.uuid('ipr', { create: 'optional', doc: "the range's uuid (ipr-…); generated when omitted" }),
    begin_ipv4_address: f.ipv4({ create: 'required', doc: 'first address' }),
    end_ipv4_address: f.ipv4({ create: 'required', doc: 'last address' }),
  },
});

export const ipRangeGroups = resource({
  kind: 'ip_range_groups',
  singular: 'ip_range_group',
  prefix: 'iprg',
  doc: 'pools of IPv4 ranges',
  fields: {
    uuid: uuidField('iprg'),
    allocation_type: f.enum(['incremental', 'decremental', 'random'], {
      create: 'optional',
      update: 'optional',
      doc: 'incremental | decremental | random',
    }),
    ip_ranges: f.list(ipRanges.schema, { doc: 'its ranges (ip_range_groups ip_ranges add)' }),
    ...timestamps,
  },
});

export const macRanges = item({
  segment: 'mac_ranges',
  field: 'mac_ranges',
  prefix: 'mr',
  doc: 'the ranges of the group',
  fields: {
    uuid: f.uuid('mr', { create: 'optional', doc: "the range's uuid (mr-…); generated when omitted" }),
    begin_mac_address: f.mac({ create: 'required', doc: 'first MAC' }),
    end_mac_address: f.mac({ create: 'required', doc: 'last MAC' }),
  },
});

export const macRangeGroups = resource({
  kind: 'mac_range_groups',
  singular: 'mac_range_group',
  prefix: 'mrg',
  doc: 'pools of MAC ranges',
  fields: {
    uuid: uuidField('mrg'),
    allocation_type: f.enum(['random', 'incremental', 'decremental'], {
      create: 'optional',
      update: 'optional',
      doc: 'random | incremental | decremental',
    }),
    mac_ranges: f.list(macRanges.schema, { doc: 'its ranges (mac_range_groups mac_ranges add)' }),
    ...timestamps,
  },
});
