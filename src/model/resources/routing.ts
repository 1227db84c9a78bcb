// Route links and routes: the transit links joining router interfaces, and the routes over them.
import { f, resource } from '../resource.js';
import { displayName, timestamps, uuidField } from './common.js';

export const routeLinks = resource({
  kind: 'route_links',
  singular: 'route_link',
  prefix: 'rl',
  doc: 'transit links joining router interfaces of several networks',
  fields: {
    uuid: uuidField('rl'),
    display_name: displayName,
    mac_address: f.mac({
      create: 'optional',
      update: 'optional',
      filter: true,
      doc: 'MAC of the route link (generated when omitted)',
    }),
    topology_uuid: f.string({ create: 'nullable', update: 'nullable', nullable: true, doc: 'topology (topo-…)' }),
    ...timestamps,
  },
});

export const routes = resource({
  kind: 'routes',
  singular: 'route',
  prefix: 'r',
  doc: 'routes of a router interface over a route link',
  fields: {
    uuid: uuidField('r'),
    display_name: displayName,
    interface_uuid: f.uuid('if', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'interfaces', onDelete: 'cascade' },
      doc: 'router interface (if-…)',
    }),
    route_link_uuid: f.uuid('rl', {
      create: 'required',
      update: 'optional',
      filter: true,
      ref: { kind: 'route_links', onDelete: 'cascade' },
      doc: 'route link (rl-…)',
    }),
    network_uuid: f.uuid('nw', {
      create: 'optional',
      update: 'optional',
      filter: true,
      ref: { kind: 'networks', onDelete: 'cascade' },
      doc: "network (nw-…); default: the router interface's network",
    }),
    ipv4_network: f.ipv4({ create: 'required', update: 'optional', doc: 'destination network address' }),
    ipv4_prefix: f.int(0, 32, {
      create: 'optional',
      update: 'optional',
      doc: 'destination prefix length (default 24)',
    }),
    ingress: f.bool({
      create: 'optional',
      update: 'optional',
      doc: 'route traffic entering from this network (default true)',
    }),
    egress: f.bool({
      create: 'optional',
      update: 'optional',
      doc: 'route traffic leaving to this network (default true)',
    }),
    ...timestamps,
  },
});
