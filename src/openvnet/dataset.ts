// OpenVNet's integration-test datasets (its vnspec harness's YAML files) as the API calls that harness made, in
// its order, and a runner that makes them against a vnet server, so OpenVNet's own test topologies load here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { exchange } from '../client/transport.js';

/** One request of a dataset: what vnspec sent (`/api/` + path, form-encoded params) and the row it came from. */
export interface DatasetCall {
  readonly method: 'POST' | 'PUT';
  /** Relative to /api (no leading slash), e.g. `datapaths/dp-1/networks/nw-vnet1`. */
  readonly path: string;
  /** The row's remaining fields, as Faraday's url_encoded sends them: every value a string. */
  readonly params: Readonly<Record<string, string>>;
  /** The dataset key (`interfaces`, `datapath_networks`, …) and the file the row came from. */
  readonly key: string;
  readonly file: string;
}

/**
 * How vnspec's Dataset#setup turns a key's rows into requests: the path's `:field`s are taken out of the row,
 * the rest is the body. A key not listed here is `POST /<key>` with the whole row. One `METHOD path` line a key.
 */
const ROUTE_LINES: Readonly<Record<string, string>> = {
  datapath_networks: 'POST datapaths/:datapath_uuid/networks/:network_uuid',
  datapath_route_links: 'POST datapaths/:datapath_uuid/route_links/:route_link_uuid',
  datapath_segments: 'POST datapaths/:datapath_uuid/segments/:segment_uuid',
  interface_security_groups: 'POST interfaces/:interface_uuid/security_groups/:security_group_uuid',
  interface_network_puts: 'PUT interfaces/:interface_uuid/networks/:network_uuid',
  interface_segment_puts: 'PUT interfaces/:interface_uuid/segments/:segment_uuid',
  filter_static: 'POST filters/:filter_uuid/static',
  dns_records: 'POST dns_services/:dns_service_uuid/dns_records',
  ip_ranges: 'POST ip_range_groups/:ip_range_group_uuid/ip_ranges',
  lease_policy_base_networks: 'POST lease_policies/:lease_policy_uuid/networks/:network_uuid',
  lease_policy_base_interfaces: 'POST lease_policies/:lease_policy_uuid/interfaces/:interface_uuid',
  lease_policy_ip_lease_containers:
    'POST lease_policies/:lease_policy_uuid/ip_lease_containers/:ip_lease_container_uuid',
  lease_policy_ip_retention_containers:
    'POST lease_policies/:lease_policy_uuid/ip_retention_containers/:ip_retention_container_uuid',
  mac_range_group_mac_ranges: 'POST mac_range_groups/:mac_range_group_uuid/mac_ranges',
  topology_datapaths: 'POST topologies/:topology_uuid/datapaths/:datapath_uuid',
  topology_mac_range_groups: 'POST topologies/:topology_uuid/mac_range_groups/:mac_range_group_uuid',
  topology_underlays: 'POST topologies/:overlay_uuid/underlays/:underlay_uuid',
  topology_networks: 'POST topologies/:topology_uuid/networks/:network_uuid',
  topology_segments: 'POST topologies/:topology_uuid/segments/:segment_uuid',
  topology_route_links: 'POST topologies/:topology_uuid/route_links/:route_link_uuid',
  translation_static_addresses: 'POST translations/:translation_uuid/static_address',
};
export const DATASET_ROUTES: Readonly<Record<string, { readonly method: 'POST' | 'PUT'; readonly path: string }>> =
  Object.fromEntries(
    Object.entries(ROUTE_LINES).map(([key, line]) => {
      const [method, path] = line.split(' ') as ['POST' | 'PUT', string];
      return [key, { method, path }];
    }),
  );

/** The files vnspec loads for a dataset, in order: `base`, then `base_topology` for a `*_tp` one, else `base_dp`. */
export function datasetFiles(name: string): string[] {
  return ['base', name.endsWith('_tp') ? 'base_topology' : 'base_dp', name];
}

/** vnspec runs each file through ERB with its config's `dataset_options`; the datasets only use `<%= name %>`. */
export function renderTemplate(text: string, options: Readonly<Record<string, string | number>>, file: string): string {
  return text.replace(/<%=\s*(\w+)\s*%>/g, (_, name: string) => {
    const v = options[name];
    if (v === undefined) throw new Error(`${file}: no value for <%= ${name} %> (vnet dataset --set ${name}=…)`);
    return String(v);
  });
}

/** What Faraday's url_encoded makes of a YAML scalar: Ruby's to_s (nil becomes the empty string). */
function formValue(v: unknown, where: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`${where}: only scalar values are supported, not ${JSON.stringify(v)}`);
}

/**
 * The calls of the given files' texts, merged as vnspec merges them: rows of the same key from every file
 * appended in file order, keys in the order they first appear (a Ruby Hash keeps insertion order), so e.g. a
 * dataset's own `interfaces` are created right after `base`'s, before anything `base_dp` adds.
 */
export function datasetCalls(
  files: readonly { readonly name: string; readonly text: string }[],
  options: Readonly<Record<string, string | number>> = {},
): DatasetCall[] {
  const rows = new Map<string, { row: Record<string, unknown>; file: string }[]>();
  for (const f of files) {
    // YAML 1.1, as Ruby's Psych reads these files (yes/no are booleans there).
    const doc: unknown = parse(renderTemplate(f.text, options, f.name), { version: '1.1' }) ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${f.name}: a dataset is a mapping of keys`);
    for (const [key, list] of Object.entries(doc as Record<string, unknown>)) {
      if (!rows.has(key)) rows.set(key, []);
      if (list === null) continue;
      if (!Array.isArray(list)) throw new Error(`${f.name}: ${key}: a dataset key holds a list of rows`);
      for (const row of list) {
        if (typeof row !== 'object' || row === null || Array.isArray(row))
          throw new Error(`${f.name}: ${key}: each row is a mapping of fields`);
        rows.get(key)!.push({ row: row as Record<string, unknown>, file: f.name });
      }
    }
  }
  const calls: DatasetCall[] = [];
  for (const [key, list] of rows) {
    const route = DATASET_ROUTES[key] ?? { method: 'POST' as const, path: key };
    for (const { row, file } of list) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(row)) params[k] = formValue(v, `${file}: ${key}.${k}`);
      const path = route.path.replace(/:(\w+)/g, (_, field: string) => {
        const v = params[field];
        if (v === undefined || v === '') throw new Error(`${file}: a ${key} row needs ${field}`);
        delete params[field];
        return encodeURIComponent(v);
      });
      calls.push({ method: route.method, path, params, key, file });
    }
  }
  return calls;
}

/** The calls of dataset `name` from the directory holding OpenVNet's `integration_test/dataset/*.yml` (or ours). */
export function loadDataset(
  dir: string,
  name: string,
  options: Readonly<Record<string, string | number>> = {},
): DatasetCall[] {
  return datasetCalls(
    datasetFiles(name).map((n) => ({ name: `${n}.yml`, text: readFileSync(join(dir, `${n}.yml`), 'utf8') })),
    options,
  );
}

/** What the server answered to one call. */
export interface DatasetReply {
  readonly call: DatasetCall;
  readonly status: number;
  readonly body: string;
}

/**
 * Makes the calls in order against `baseUrl` (e.g. http://127.0.0.1:9090) as vnspec's Faraday adapter did:
 * `/api/<path>` with a form-encoded body. Stops at the first non-2xx (vnspec raised there) unless `keepGoing`.
 */
export async function applyDataset(
  baseUrl: string,
  calls: readonly DatasetCall[],
  opts: { keepGoing?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<DatasetReply[]> {
  const replies: DatasetReply[] = [];
  for (const call of calls) {
    const body = new URLSearchParams(call.params).toString();
    const res = await exchange(new URL(`${baseUrl}/api/${call.path}`), {
      method: call.method,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
        accept: 'application/json',
        ...opts.headers,
      },
      body,
      timeoutMs: opts.timeoutMs ?? 30_000,
      keepAlive: true,
    });
    replies.push({ call, status: res.status, body: res.text });
    if ((res.status < 200 || res.status > 299) && !opts.keepGoing) break;
  }
  return replies;
}
