// Route links and routes: the transit links joining router interfaces, and the routes over them.
import { f, resource, SET } from '../resource.js';
import { description, displayName, projectId, timestamps, topologyUuid, uuidField } from './common.js';

export const routeLinks = resource({
  kind: 'route_links',
  prefix: 'rl',
  doc: 'transit links joining router interfaces of several networks',
  fields: {
    uuid: uuidField('rl'),
    display_name: displayName,
    mac_address: f.mac({ ...SET.editable, filter: true, doc: 'MAC of the route link (generated when omitted)' }),
    topology_uuid: topologyUuid,
    project_id: projectId,
    description,
    admin_state_up: f.bool({
      ...SET.editable,
      default: true,
      doc: "false: the router routes nothing — every route over the link has ingress and egress off (Neutron's router admin state)",
    }),
    ...timestamps,
  },
});

export const routes = resource({
  kind: 'routes',
  prefix: 'r',
  doc: 'routes of a router interface over a route link',
  fields: {
    uuid: uuidField('r'),
    display_name: displayName,
    interface_uuid: f.ref('if', 'cascade', { ...SET.required, filter: true, doc: 'router interface' }),
    route_link_uuid: f.ref('rl', 'cascade', { ...SET.required, filter: true, doc: 'route link' }),
    network_uuid: f.ref('nw', 'cascade', {
      ...SET.editable,
      filter: true,
      doc: "network; default: the router interface's network",
    }),
    ipv4_network: f.destination({ ...SET.required, doc: 'destination network address' }),
    ipv4_prefix: f.int(0, 32, { ...SET.editable, default: 24, doc: 'destination prefix length (default 24)' }),
    gateway_ipv4_address: f.ipv4({
      ...SET.clearable,
      doc: "next hop in the route's network for destinations beyond it (e.g. the upstream router); null: none",
    }),
    ingress: f.bool({ ...SET.editable, default: true, doc: 'route traffic entering from this network (default true)' }),
    egress: f.bool({ ...SET.editable, default: true, doc: 'route traffic leaving to this network (default true)' }),
    ...timestamps,
  },
});
