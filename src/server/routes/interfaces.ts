// An interface's port (owner datapath + OVS port name) and its security group memberships.
import type { FastifyInstance } from 'fastify';
import { UUID_PREFIX as P } from '../../model/types.js';
import { represent } from '../represent.js';
import { addPort, PORT_PARAMS, portsOf, removePorts, setMembership } from '../relations.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

export async function interfaceRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const path = { uuid: P.interfaces };
  const echoUuid = ({ uuid }: Record<string, string>) => ({ uuid: uuid! });
  const echoInterface = ({ uuid }: Record<string, string>) => ({ uuid: uuid!, interface_uuid: uuid! });
  r.add({
    method: 'POST',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "Set the interface's port (owner datapath + OVS port name)",
    path,
    params: PORT_PARAMS,
    echoes: echoInterface,
    handler: async ({ path, p }) => r.write((ctx) => addPort(ctx, path.uuid!, p)),
  });
  r.add({
    method: 'GET',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "List the interface's ports",
    path,
    params: LIST_PARAMS,
    echoes: echoUuid,
    handler: async ({ path, p }) =>
      r.page(portsOf(await r.service.read((ctx) => ctx.must('interfaces', path.uuid!))), p),
  });
  r.add({
    method: 'DELETE',
    url: '/interfaces/:uuid/ports',
    tag: 'interfaces',
    summary: "Remove the interface's port",
    path,
    params: PORT_PARAMS,
    echoes: echoInterface,
    handler: async ({ path, p }) => r.write((ctx) => removePorts(ctx, path.uuid!, p)),
  });
  r.add({
    method: 'GET',
    url: '/interfaces/:uuid/security_groups',
    tag: 'interfaces',
    summary: 'List the security groups of an interface',
    path,
    params: LIST_PARAMS,
    echoes: echoUuid,
    handler: async ({ path, p }) => {
      const items = await r.service.read(async (ctx) => {
        const iface = await ctx.must('interfaces', path.uuid!);
        const out = [];
        for (const sg of iface.security_group_uuids as string[]) {
          const d = await ctx.get('security_groups', sg);
          if (d) out.push(d);
        }
        return out;
      });
      return r.page(items, p);
    },
  });
  for (const method of ['PUT', 'POST', 'DELETE'] as const)
    r.add({
      method,
      url: '/interfaces/:uuid/security_groups/:security_group_uuid',
      tag: 'interfaces',
      summary:
        method === 'DELETE' ? 'Remove an interface from a security group' : 'Add an interface to a security group',
      path: { uuid: P.interfaces, security_group_uuid: P.security_groups },
      echoes: (v) => ({ uuid: v.uuid!, interface_uuid: v.uuid!, security_group_uuid: v.security_group_uuid! }),
      handler: async ({ path }) => {
        const sg = path.security_group_uuid!;
        const doc = await r.write(async (ctx) =>
          represent(ctx, 'interfaces', await setMembership(ctx, path.uuid!, sg, method !== 'DELETE')),
        );
        return method === 'DELETE' ? [sg] : doc;
      },
    });
}
