// Topologies (OpenVNet 0.9+): a simple_underlay lists datapaths (each with its host interface), MAC range groups and
// networks; a simple_overlay lists networks, segments and route links and the underlays whose datapaths carry them.
// The server derives the datapath_networks / _segments / _route_links rows from them (docs/topologies.md).
import { f, type Fields, resource, SET } from '../resource.js';
import { Type } from '../schema.js';
import { displayName, timestamps, uuidField } from './common.js';

export const TOPOLOGY_MODES = ['simple_overlay', 'simple_underlay'] as const;
export type TopologyMode = (typeof TOPOLOGY_MODES)[number];

/**
 * One relation of a topology, `/topologies/:uuid/<segment>/:<otherField>`, stored as the list `<segment>` of the
 * topology (rows of `fields`). `modes`: the topology modes that take it (OpenVNet's MODES_WITH_*).
 */
export interface TopologyRelation {
  segment: 'datapaths' | 'networks' | 'segments' | 'route_links' | 'mac_range_groups' | 'underlays';
  singular: string;
  /** The related object's uuid field in a row (and the path parameter). */
  otherField: string;
  /** Its uuid prefix. */
  otherPrefix: string;
  modes: readonly TopologyMode[];
  /** The row's fields besides the related object's uuid: what POST takes. */
  fields: Fields;
  doc: string;
}

export const TOPOLOGY_RELATIONS: readonly TopologyRelation[] = [
  {
    segment: 'datapaths',
    singular: 'datapath',
    otherField: 'datapath_uuid',
    otherPrefix: 'dp',
    modes: ['simple_underlay'],
    fields: {
      interface_uuid: f.ref('if', 'restrict', {
        create: 'required',
        doc: "the datapath's host interface (mode host) the underlay's networks use there",
      }),
      ip_lease_uuid: f.ref('il', 'restrict', {
        create: 'optional',
        doc: "not supported: vnet tunnels from the datapath's ipv4_address, else its host interface's address",
      }),
    },
    doc: 'datapaths of an underlay, each with its host interface: every network of the underlay and of its overlays is provisioned there',
  },
  {
    segment: 'networks',
    singular: 'network',
    otherField: 'network_uuid',
    otherPrefix: 'nw',
    modes: ['simple_overlay', 'simple_underlay'],
    fields: {},
    doc: "networks provisioned on the topology's datapaths (an overlay's: its underlays' datapaths)",
  },
  {
    segment: 'segments',
    singular: 'segment',
    otherField: 'segment_uuid',
    otherPrefix: 'seg',
    modes: ['simple_overlay', 'simple_underlay'],
    fields: {},
    doc: "segments provisioned on the topology's datapaths (an overlay's: its underlays' datapaths)",
  },
  {
    segment: 'route_links',
    singular: 'route_link',
    otherField: 'route_link_uuid',
    otherPrefix: 'rl',
    modes: ['simple_overlay'],
    fields: {},
    doc: "route links of an overlay: datapath_route_links rows on its underlays' datapaths",
  },
  {
    segment: 'mac_range_groups',
    singular: 'mac_range_group',
    otherField: 'mac_range_group_uuid',
    otherPrefix: 'mrg',
    modes: ['simple_underlay'],
    fields: {},
    doc: 'MAC range groups of an underlay: the per-datapath MAC of each row it (or an overlay on it) provisions',
  },
  {
    segment: 'underlays',
    singular: 'underlay',
    otherField: 'underlay_uuid',
    otherPrefix: 'topo',
    modes: ['simple_overlay'],
    fields: {},
    doc: 'the simple_underlay topologies whose datapaths carry an overlay',
  },
];

/** A stored row of a relation: the related object's uuid (and, for datapaths, the host interface). */
const row = (otherField: string, extra: Record<string, ReturnType<typeof Type.String>> = {}) =>
  Type.Object({ [otherField]: Type.String(), ...extra });

const list = (rel: string, doc: string, item: ReturnType<typeof row>) =>
  f.list(item, { immutable: true, doc: `${doc} (set through /topologies/:uuid/${rel})` });

export const topologies = resource({
  kind: 'topologies',
  prefix: 'topo',
  doc: "OpenVNet's topologies: which networks, segments and route links each datapath carries, without datapath_networks rows written by hand",
  fields: {
    uuid: uuidField('topo'),
    display_name: displayName,
    mode: f.enum([...TOPOLOGY_MODES], {
      ...SET.required,
      filter: true,
      doc: 'simple_underlay (datapaths, MAC range groups, networks, segments) | simple_overlay (networks, segments, route links, underlays); changed in place only while every member it has is one the new mode takes',
    }),
    datapaths: list(
      'datapaths',
      'its datapaths and their host interfaces',
      row('datapath_uuid', { interface_uuid: Type.String() }),
    ),
    networks: list('networks', 'its networks', row('network_uuid')),
    segments: list('segments', 'its segments', row('segment_uuid')),
    route_links: list('route_links', 'its route links', row('route_link_uuid')),
    mac_range_groups: list('mac_range_groups', 'its MAC range groups', row('mac_range_group_uuid')),
    underlays: list('underlays', 'the underlays carrying it', row('underlay_uuid')),
    ...timestamps,
  },
  deleteNotes: [
    'the datapath_networks, datapath_segments and datapath_route_links rows it provisioned are withdrawn',
    'overlays on it lose it from their underlays (and their rows on its datapaths)',
  ],
});
