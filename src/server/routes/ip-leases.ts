// OpenVNet's IP lease actions: attach to an interface or MAC lease, release from it.
import type { FastifyInstance } from 'fastify';
import { ArgumentError } from '../../model/errors.js';
import { uuid } from '../../model/params.js';
import { UUID_PREFIX as P } from '../../model/types.js';
import { RESOURCES } from '../resources.js';
import { type RouteOptions, Routes } from './context.js';

const ATTACH_PARAMS = [uuid('interface_uuid', P.interfaces), uuid('mac_lease_uuid', P.mac_leases)];

export async function ipLeaseRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const ipLeases = RESOURCES.find((d) => d.kind === 'ip_leases')!;
  const path = { uuid: P.ip_leases };
  r.add({
    method: 'PUT',
    url: '/ip_leases/:uuid/attach',
    tag: 'ip_leases',
    summary: 'Attach an IP lease to an interface / MAC lease',
    path,
    params: ATTACH_PARAMS,
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path, p }) => {
      if (p.interface_uuid === undefined && p.mac_lease_uuid === undefined)
        throw new ArgumentError('interface_uuid', 'give interface_uuid or mac_lease_uuid');
      return r.write(async (ctx) => ipLeases.update(ctx, await ctx.must('ip_leases', path.uuid!), p));
    },
  });
  r.add({
    method: 'PUT',
    url: '/ip_leases/:uuid/release',
    tag: 'ip_leases',
    summary: 'Detach an IP lease from its interface',
    path,
    echoes: ({ uuid }) => ({ uuid: uuid! }),
    handler: async ({ path }) =>
      r.write(async (ctx) =>
        ipLeases.update(ctx, await ctx.must('ip_leases', path.uuid!), { interface_uuid: null, mac_lease_uuid: null }),
      ),
  });
}
