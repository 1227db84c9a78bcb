// IP and MAC range groups: pools of addresses (a MAC range group can hand an interface its MAC).
import type { TSchema } from 'typebox';
import { f, item, resource, SET } from '../resource.js';
import { timestamps, uuidField } from './common.js';

const ALLOCATION = ['incremental', 'decremental', 'random'] as const;
type Allocation = (typeof ALLOCATION)[number];
const allocationType = (dflt: Allocation) =>
  f.enum([...ALLOCATION], {
    ...SET.editable,
    default: dflt,
    doc: `incremental | decremental | random (default ${dflt})`,
  });
const rangesOf = <S extends TSchema>(schema: S, what: string) => f.list(schema, { doc: `its ranges (${what} add)` });

/**
 * A range group and the ranges it holds (items of their own uuid, at most 1000). IPv4 and MAC groups differ only
 * in their name, uuid prefix, default allocation and the kind of their begin/end addresses, from which the rest
 * is named: `<name>_range_groups` (`<prefix>rg-`) holding `<name>_ranges` (`<prefix>r-`) with
 * `begin_<address>_address` and `end_<address>_address`.
 */
function rangeGroup<const N extends string, const A extends 'ipv4' | 'mac'>(
  name: N,
  prefix: string,
  doc: string,
  allocation: Allocation,
  address: { kind: A; noun: string },
) {
  const field = f[address.kind];
  const addresses = {
    [`begin_${address.kind}_address`]: field({ create: 'required', doc: `first ${address.noun}` }),
    [`end_${address.kind}_address`]: field({ create: 'required', doc: `last ${address.noun}` }),
  } as { [K in `${'begin' | 'end'}_${A}_address`]: ReturnType<typeof field<{ create: 'required'; doc: string }>> };
  const list = `${name}_ranges` as const;
  const ranges = item({
    segment: list,
    max: 1_000,
    field: list,
    prefix: `${prefix}r`,
    doc: 'the ranges of the group',
    fields: { uuid: uuidField(`${prefix}r`, "the range's"), ...addresses },
  });
  const kind = `${name}_range_groups` as const;
  const lists = { [list]: rangesOf(ranges.schema, `${kind} ${list}`) } as {
    [K in typeof list]: ReturnType<typeof rangesOf<typeof ranges.schema>>;
  };
  const group = resource({
    kind,
    prefix: `${prefix}rg`,
    doc,
    fields: { uuid: uuidField(`${prefix}rg`), allocation_type: allocationType(allocation), ...lists, ...timestamps },
  });
  return { ranges, group };
}

const ip = rangeGroup('ip', 'ip', 'pools of IPv4 ranges', 'incremental', { kind: 'ipv4', noun: 'address' });
export const { ranges: ipRanges, group: ipRangeGroups } = ip;
const mac = rangeGroup('mac', 'm', 'pools of MAC ranges', 'random', { kind: 'mac', noun: 'MAC' });
export const { ranges: macRanges, group: macRangeGroups } = mac;
