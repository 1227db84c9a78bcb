// Items embedded in a parent: with uuids (security group rules, IP/MAC ranges, DNS records) and identified by
// their fields (filter statics, translation static addresses).
import type { FastifyInstance } from 'fastify';
import { UnknownUUIDResource } from '../../model/errors.js';
import type { ResourceKind } from '../../model/types.js';
import { addKeyedItem, addSubItem, KEYED_ITEMS, removeKeyedItem, removeSubItem, SUB_ITEMS } from '../relations.js';
import { RESOURCES } from '../resources.js';
import { LIST_PARAMS, type RouteOptions, Routes } from './context.js';

const prefixOf = (kind: string) => RESOURCES.find((d) => d.kind === kind)!.prefix;

export async function itemRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const r = new Routes(app, opts);
  const itemsOf = async (kind: ResourceKind, id: string, field: string) =>
    (await r.service.read((ctx) => ctx.must(kind, id)))[field] as { uuid: string }[];

  for (const sub of SUB_ITEMS) {
    const base = `/${sub.parentKind}/:uuid/${sub.segment}`;
    const parent = { uuid: prefixOf(sub.parentKind) };
    // One item: its url, path uuids and the echo OpenVNet clients send (the item's uuid as `uuid`).
    const oneItem = {
      url: `${base}/:item_uuid`,
      tag: sub.parentKind,
      path: { ...parent, item_uuid: sub.prefix },
      echoes: (v: Record<string, string>) => ({ uuid: v.item_uuid! }),
    };
    r.add({
      method: 'POST',
      url: base,
      tag: sub.parentKind,
      summary: `Add to ${sub.segment}`,
      path: parent,
      params: sub.params,
      handler: async ({ path, p }) => r.write((ctx) => addSubItem(ctx, sub, path.uuid!, p)),
    });
    r.add({
      method: 'GET',
      url: base,
      tag: sub.parentKind,
      summary: `List ${sub.segment}`,
      path: parent,
      params: LIST_PARAMS,
      echoes: ({ uuid }) => ({ uuid: uuid! }),
      handler: async ({ path, p }) => r.page(await itemsOf(sub.parentKind, path.uuid!, sub.field), p),
    });
    r.add({
      ...oneItem,
      method: 'GET',
      summary: `Show one of ${sub.segment}`,
      handler: async ({ path }) => {
        const found = (await itemsOf(sub.parentKind, path.uuid!, sub.field)).find((i) => i.uuid === path.item_uuid);
        if (!found) throw new UnknownUUIDResource(path.item_uuid!);
        return found;
      },
    });
    r.add({
      ...oneItem,
      method: 'DELETE',
      summary: `Remove one of ${sub.segment}`,
      handler: async ({ path }) => {
        await r.write((ctx) => removeSubItem(ctx, sub, path.uuid!, path.item_uuid!));
        return [path.item_uuid];
      },
    });
  }

  for (const k of KEYED_ITEMS) {
    const base = `/${k.parentKind}/:uuid/${k.segment}`;
    const parent = { uuid: prefixOf(k.parentKind) };
    r.add({
      method: 'POST',
      url: base,
      tag: k.parentKind,
      summary: `Add a ${k.segment} entry`,
      path: parent,
      params: k.params,
      handler: async ({ path, p }) => r.write((ctx) => addKeyedItem(ctx, k, path.uuid!, p)),
    });
    r.add({
      method: 'GET',
      url: base,
      tag: k.parentKind,
      summary: `List ${k.segment} entries`,
      path: parent,
      params: LIST_PARAMS,
      echoes: ({ uuid }) => ({ uuid: uuid! }),
      handler: async ({ path, p }) => r.page(await itemsOf(k.parentKind, path.uuid!, k.field), p),
    });
    r.add({
      method: 'DELETE',
      url: base,
      tag: k.parentKind,
      summary: `Remove ${k.segment} entries matching the given fields`,
      path: parent,
      params: k.params,
      handler: async ({ path, p }) => {
        await r.write((ctx) => removeKeyedItem(ctx, k, path.uuid!, p));
        // OpenVNet answers a translation's static address removal with the translation.
        return k.parentKind === 'translations' ? { uuid: path.uuid } : [path.uuid];
      },
    });
  }
}
