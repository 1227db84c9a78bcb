// IP and MAC range groups: pools of addresses (a MAC range group can hand an interface its MAC).
import type { TSchema } from 'typebox';
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const ALLOCATION = ['incremental', 'decremental', 'random'] as const;
const allocationType = (dflt: (typeof ALLOCATION)[number]) =>
  f.enum([...ALLOCATION], {
    ...SET.editable,
    default: dflt,
    doc: `incremental | decremental | random (default ${dflt})`,
  });
const rangesOf = <S extends TSchema>(schema: S, what: string) => f.list(schema, { doc: `its ranges (${what} add)` });

export const ipRanges = item({
  segment: 'ip_ranges',
  max: 1_000,
  field: 'ip_ranges',
  prefix: 'ipr',
  doc: 'the ranges of the group',
  fields: {
    uuid: uuidField('ipr', "the range's"),
    begin_ipv4_address: f.ipv4({ create: 'required', doc: 'first address' }),
    end_ipv4_address: f.ipv4({ create: 'required', doc: 'last address' }),
  },
});

export const ipRangeGroups = resource({
  kind: 'ip_range_groups',
  prefix: 'iprg',
  doc: 'pools of IPv4 ranges',
  fields: {
    uuid: uuidField('iprg'),
    allocation_type: allocationType('incremental'),
    ip_ranges: rangesOf(ipRanges.schema, 'ip_range_groups ip_ranges'),
    ...timestamps,
  },
});

export const macRanges = item({
  segment: 'mac_ranges',
  max: 1_000,
  field: 'mac_ranges',
  prefix: 'mr',
  doc: 'the ranges of the group',
  fields: {
    uuid: uuidField('mr', "the range's"),
    begin_mac_address: f.mac({ create: 'required', doc: 'first MAC' }),
    end_mac_address: f.mac({ create: 'required', doc: 'last MAC' }),
  },
});

export const macRangeGroups = resource({
  kind: 'mac_range_groups',
  prefix: 'mrg',
  doc: 'pools of MAC ranges',
  fields: {
    uuid: uuidField('mrg'),
    allocation_type: allocationType('random'),
    mac_ranges: rangesOf(macRanges.schema, 'mac_range_groups mac_ranges'),
    ...timestamps,
  },
});
