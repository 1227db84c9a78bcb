// Per-host rows of a network, route link or segment on a datapath (OpenVNet's datapath_networks & co.).
// Their feed uuid is "<datapath uuid>/<other uuid>"; they are set through /datapaths/:uuid/<segment>/:other.
import { f, resource, SET } from '../resource.js';
import { timestamps } from './common.js';

/** The fields every relation row has; `other` is the related object's uuid field (network_uuid, ...). */
function relation<const K extends string>(other: K, otherPrefix: string, what: string) {
  const ref = f.ref(otherPrefix, 'cascade', { doc: `the ${what}` });
  return {
    uuid: f.string({ doc: '"<datapath uuid>/<other uuid>"' }),
    datapath_uuid: f.ref('dp', 'cascade', { doc: 'the datapath' }),
    ...({ [other]: ref } as { [P in K]: typeof ref }),
    interface_uuid: f.ref('if', 'nullify', { ...SET.clearable, doc: 'host interface' }),
    mac_address: f.mac({ ...SET.clearable, doc: `the datapath's MAC on the ${what}` }),
    // Set by the server only: a row a topology derived is withdrawn with it (src/server/topologies.ts).
    topology_uuid: f.ref('topo', 'cascade', {
      nullable: true,
      doc: 'the topology that provisioned the row (withdrawn with it); null: written through /datapaths',
    }),
  };
}

export const datapathNetworks = resource({
  kind: 'datapath_networks',
  prefix: 'dp',
  doc: 'per-host settings of a network on the datapath',
  fields: {
    ...relation('network_uuid', 'nw', 'network'),
    broadcast_mac_address: f.mac({ ...SET.clearable, doc: 'broadcast MAC (OpenVNet 0.x)' }),
    gateway_priority: f.int(1, 32767, {
      ...SET.clearable,
      doc: "this datapath may be the gateway of the network's routers (snat, router ARP); the connected one with the highest priority is active; null: never",
    }),
    ...timestamps,
  },
});

export const datapathRouteLinks = resource({
  kind: 'datapath_route_links',
  prefix: 'dp',
  doc: 'per-host settings of a route link on the datapath',
  fields: { ...relation('route_link_uuid', 'rl', 'route link'), ...timestamps },
});

export const datapathSegments = resource({
  kind: 'datapath_segments',
  prefix: 'dp',
  doc: 'per-host settings of a segment on the datapath',
  fields: { ...relation('segment_uuid', 'seg', 'segment'), ...timestamps },
});
