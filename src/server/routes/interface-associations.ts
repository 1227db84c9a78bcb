// OpenVNet's interface associations: PUT /interfaces/:uuid/{networks,segments,route_links}/:other with `static`,
// and their lists. vnet keeps an interface's network (its IP leases, or network_uuid without one) and its segment
// (segment_uuid) on the interface itself, so a static association sets those and a row is derived from them; its
// route links are those of its routes, plus the static ones it keeps (static_route_link_uuids), which, as in
// OpenVNet, place nothing.
import type { FastifyInstance } from 'fastify';
import { NotSupported, UnknownResource } from '../../model/errors.js';
import { bool } from '../../model/params.js';
import { UUID_PREFIX as P } from '../../model/types.js';
import type { Doc } from '../../store/store.js';
import { interfaces } from '../resources/interfaces.js';
import type { ReadContext, WriteContext } from '../write-context.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

type Row = { interface_uuid: string; static: boolean } & Record<string, unknown>;

/** The networks an interface is in: those of its IP leases (not static: they follow the leases), else its own. */
async function networkRows(ctx: ReadContext, iface: Doc): Promise<Row[]> {
  const leased = new Set((await ctx.find('ip_leases', { interface_uuid: iface.uuid })).map((l) => l.network_uuid));
  const rows: Row[] = [...leased].map((nw) => ({ interface_uuid: iface.uuid, network_uuid: nw, static: false }));
  if (iface.network_uuid && !leased.has(iface.network_uuid))
    rows.push({ interface_uuid: iface.uuid, network_uuid: iface.network_uuid, static: true });
  return rows;
}

function segmentRows(iface: Doc): Row[] {
  return iface.segment_uuid ? [{ interface_uuid: iface.uuid, segment_uuid: iface.segment_uuid, static: true }] : [];
}

async function putNetwork(ctx: WriteContext, ifUuid: string, nw: string, stat: boolean): Promise<Row> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  await ctx.must('networks', nw, 'network_uuid');
  const rows = await networkRows(ctx, iface);
  const row = rows.find((r) => r.network_uuid === nw);
  if (stat) {
    if (row) return { ...row, static: row.static || stat };
    if (rows.length > 0)
      throw new NotSupported(
        'network_uuid',
        `${ifUuid} is in ${rows.map((r) => r.network_uuid).join(', ')}; a static association with a second network is not supported`,
      );
    await interfaces.update(ctx, iface, { network_uuid: nw });
    return { interface_uuid: ifUuid, network_uuid: nw, static: true };
  }
  if (!row) throw new UnknownResource(`network_uuid: ${ifUuid} is not associated with ${nw}`);
  // OpenVNet kept an association its leases still make; only the static one goes.
  if (row.static) await interfaces.update(ctx, iface, { network_uuid: null });
  return { ...row, static: false };
}

async function putSegment(ctx: WriteContext, ifUuid: string, seg: string, stat: boolean): Promise<Row> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  await ctx.must('segments', seg, 'segment_uuid');
  if (stat) {
    if (iface.segment_uuid !== seg) await interfaces.update(ctx, iface, { segment_uuid: seg });
    return { interface_uuid: ifUuid, segment_uuid: seg, static: true };
  }
  if (iface.segment_uuid !== seg) throw new UnknownResource(`segment_uuid: ${ifUuid} is not on ${seg}`);
  await interfaces.update(ctx, iface, { segment_uuid: null });
  return { interface_uuid: ifUuid, segment_uuid: seg, static: false };
}

/** The route links an interface is on: those of its routes (not static: they follow the routes) and its static ones. */
async function routeLinkRows(ctx: ReadContext, iface: Doc): Promise<Row[]> {
  const routes = await ctx.find('routes', { interface_uuid: iface.uuid });
  const routed = new Set(routes.map((r) => r.route_link_uuid as string));
  const statics = new Set((iface.static_route_link_uuids as string[] | undefined) ?? []);
  return [...new Set([...routed, ...statics])]
    .sort()
    .map((rl) => ({ interface_uuid: iface.uuid, route_link_uuid: rl, static: statics.has(rl) }));
}

async function putRouteLink(ctx: WriteContext, ifUuid: string, rl: string, stat: boolean): Promise<Row> {
  const iface = await ctx.must('interfaces', ifUuid, 'uuid');
  await ctx.must('route_links', rl, 'route_link_uuid');
  const statics = (iface.static_route_link_uuids as string[] | undefined) ?? [];
  const row = (await routeLinkRows(ctx, iface)).find((r) => r.route_link_uuid === rl);
  if (!stat && !row) throw new UnknownResource(`route_link_uuid: ${ifUuid} is not associated with ${rl}`);
  const next = stat ? [...new Set([...statics, rl])].sort() : statics.filter((u) => u !== rl);
  if (next.length !== statics.length) await ctx.update('interfaces', { ...iface, static_route_link_uuids: next });
  return { interface_uuid: ifUuid, route_link_uuid: rl, static: stat };
}

export async function interfaceAssociationRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const tag = 'interfaces';
  const echoUuid = ({ uuid }: Record<string, string>) => ({ uuid: uuid! });
  const kinds = [
    { segment: 'networks', field: 'network_uuid', prefix: P.networks, put: putNetwork },
    { segment: 'segments', field: 'segment_uuid', prefix: P.segments, put: putSegment },
    { segment: 'route_links', field: 'route_link_uuid', prefix: P.route_links, put: putRouteLink },
  ] as const;
  const rowsOf = {
    networks: networkRows,
    segments: async (_: ReadContext, i: Doc) => segmentRows(i),
    route_links: routeLinkRows,
  };
  for (const k of kinds) {
    r.add({
      method: 'PUT',
      url: `/interfaces/:uuid/${k.segment}/:${k.field}`,
      tag,
      summary: `Make the interface's association with one of its ${k.segment} static (static=true) or not`,
      path: { uuid: P.interfaces, [k.field]: k.prefix },
      params: [
        bool('static', { doc: 'true: the association stays without leases; false: it goes unless leases make it' }),
      ],
      echoes: (v) => ({ uuid: v.uuid!, interface_uuid: v.uuid!, [k.field]: v[k.field]! }),
      // Without `static` OpenVNet changed nothing and answered {}.
      handler: async ({ path, p }) =>
        p.static === undefined ? {} : r.write((ctx) => k.put(ctx, path.uuid!, path[k.field]!, p.static as boolean)),
    });
    r.add({
      method: 'GET',
      url: `/interfaces/:uuid/${k.segment}`,
      tag,
      summary: `List the interface's ${k.segment} associations`,
      path: { uuid: P.interfaces },
      params: LIST_PARAMS,
      echoes: echoUuid,
      handler: async ({ path, p }) =>
        r.page(
          await r.service.read(async (ctx) => {
            return rowsOf[k.segment](ctx, await ctx.must('interfaces', path.uuid!));
          }),
          p,
        ),
    });
  }
}
