// Per-host rows of a network, route link or segment on a datapath (OpenVNet's datapath_networks & co.).
// Their feed uuid is "<datapath uuid>/<other uuid>"; they are set through /datapaths/:uuid/<segment>/:other.
import { f, type Field, resource } from '../resource.js';
import { timestamps } from './common.js';

const row = (otherPrefix: string, otherKind: string) => ({
  uuid: f.string({ doc: '"<datapath uuid>/<other uuid>"' }),
  datapath_uuid: f.uuid('dp', { ref: { kind: 'datapaths', onDelete: 'cascade' }, doc: 'the datapath (dp-…)' }),
  other: f.uuid(otherPrefix, { ref: { kind: otherKind, onDelete: 'cascade' }, doc: `the ${otherKind.slice(0, -1)}` }),
  interface_uuid: f.uuid('if', {
    create: 'nullable',
    update: 'nullable',
    nullable: true,
    ref: { kind: 'interfaces', onDelete: 'nullify' },
    doc: 'host interface (if-…)',
  }),
});
const hostMac = (what: string) =>
  f.mac({ create: 'nullable', update: 'nullable', nullable: true, doc: `the datapath's MAC on the ${what}` });

/** Renames the generic `other` field of a row to its real name. */
function named<const K extends string, F extends { other: Field }>(key: K, fields: F) {
  const { other, ...rest } = fields;
  return { ...rest, [key]: other } as Omit<F, 'other'> & { [P in K]: F['other'] };
}

export const datapathNetworks = resource({
  kind: 'datapath_networks',
  singular: 'datapath_network',
  prefix: 'dp',
  doc: 'per-host settings of a network on the datapath',
  fields: {
    ...named('network_uuid', row('nw', 'networks')),
    mac_address: hostMac('network'),
    broadcast_mac_address: f.mac({
      create: 'nullable',
      update: 'nullable',
      nullable: true,
      doc: 'broadcast MAC (OpenVNet 0.x)',
    }),
    ...timestamps,
  },
});

export const datapathRouteLinks = resource({
  kind: 'datapath_route_links',
  singular: 'datapath_route_link',
  prefix: 'dp',
  doc: 'per-host settings of a route link on the datapath',
  fields: {
    ...named('route_link_uuid', row('rl', 'route_links')),
    mac_address: hostMac('route link'),
    ...timestamps,
  },
});

export const datapathSegments = resource({
  kind: 'datapath_segments',
  singular: 'datapath_segment',
  prefix: 'dp',
  doc: 'per-host settings of a segment on the datapath',
  fields: {
    ...named('segment_uuid', row('seg', 'segments')),
    mac_address: hostMac('segment'),
    ...timestamps,
  },
});
