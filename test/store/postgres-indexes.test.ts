// The PostgreSQL store's lookup indexes (POSTGRES_MIGRATIONS 4): partial, leaving out the kinds whose documents
// carry long lists (a `json` document's expression indexes parse its whole text at every update), and still the
// plan of every lookup the service makes by those fields — a lookup names its kind as a parameter, which the
// planner, given its value (node-postgres sends unnamed statements), checks against the index's predicate.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';

const skip = postgresMissing();
let cluster: PostgresCluster | null = null;
let store: PostgresStore | null = null;
let db: pg.Client | null = null;
after(async () => {
  await db?.end().catch(() => {});
  await store?.close();
  await cluster?.stop();
});

/** The lookups, as PostgresStore's find builds them (`kind = $1 AND data->>'f' = $n AND json_typeof(…)`). */
const LOOKUPS: { index: string | string[]; kind: string; fields: Record<string, string> }[] = [
  { index: 'vnet_docs_iface', kind: 'mac_leases', fields: { interface_uuid: 'if-7' } },
  { index: 'vnet_docs_iface', kind: 'translations', fields: { interface_uuid: 'if-7' } },
  // (kind, network_uuid) is also the head of vnet_docs_net_ip: either serves.
  { index: ['vnet_docs_network', 'vnet_docs_net_ip'], kind: 'interfaces', fields: { network_uuid: 'nw-7' } },
  // A MAC lease's own unique index serves it too; route links have only the lookup index.
  {
    index: ['vnet_docs_mac', 'vnet_docs_unique_mac'],
    kind: 'mac_leases',
    fields: { mac_address: '02:00:00:00:00:07' },
  },
  { index: 'vnet_docs_mac', kind: 'route_links', fields: { mac_address: '02:00:00:00:00:07' } },
  { index: 'vnet_docs_dp', kind: 'datapath_networks', fields: { datapath_uuid: 'dp-7' } },
  { index: 'vnet_docs_mlease', kind: 'ip_leases', fields: { mac_lease_uuid: 'ml-7' } },
  { index: 'vnet_docs_rl', kind: 'routes', fields: { route_link_uuid: 'rl-7' } },
  // An IP lease's own unique index serves it too; for any other kind, the lookup index.
  {
    index: ['vnet_docs_net_ip', 'vnet_docs_unique_ip'],
    kind: 'ip_leases',
    fields: { network_uuid: 'nw-7', ipv4_address: '10.0.0.7' },
  },
  {
    index: ['vnet_docs_net_ip', 'vnet_docs_network'],
    kind: 'interfaces',
    fields: { network_uuid: 'nw-7', ipv4_address: '10.0.0.7' },
  },
  { index: 'vnet_docs_owner_dp', kind: 'interfaces', fields: { owner_datapath_uuid: 'dp-7' } },
  { index: ['vnet_docs_dpid', 'vnet_docs_unique_dpid'], kind: 'datapaths', fields: { dpid: '0x7' } },
];

describe('PostgreSQL lookup indexes', { skip: skip ?? false }, () => {
  it('leave out the list-carrying kinds and still serve every lookup by their fields', async () => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    store = await PostgresStore.open({ url });
    // Enough documents of each kind that an index is worth using; every lookup value is distinct.
    await store.write(async (tx) => {
      for (let i = 0; i < 400; i++) {
        const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
        await tx.insert('mac_leases', { uuid: `ml-${i}`, interface_uuid: `if-${i}`, mac_address: mac });
        await tx.insert('route_links', { uuid: `rl-${i}`, mac_address: mac });
        await tx.insert('ip_leases', {
          uuid: `il-${i}`,
          network_uuid: `nw-${i}`,
          ipv4_address: `10.0.${i >> 8}.${i & 255}`,
          mac_lease_uuid: `ml-${i}`,
        });
        await tx.insert('interfaces', { uuid: `if-${i}`, network_uuid: `nw-${i}`, owner_datapath_uuid: `dp-${i}` });
        await tx.insert('translations', { uuid: `tr-${i}`, interface_uuid: `if-${i}` });
        await tx.insert('datapath_networks', { uuid: `dpn-${i}`, datapath_uuid: `dp-${i}` });
        await tx.insert('routes', { uuid: `r-${i}`, route_link_uuid: `rl-${i}` });
        await tx.insert('datapaths', { uuid: `dp-${i}`, dpid: `0x${i.toString(16)}` });
      }
      for (let i = 0; i < 20; i++) await tx.insert('security_groups', { uuid: `sg-${i}`, rules: [] });
    });
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query('ANALYZE vnet_docs');

    const defs = (
      await db.query<{ indexname: string; indexdef: string }>(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vnet_docs' AND indexdef LIKE '%->>%'",
      )
    ).rows;
    assert.equal(defs.length, 9 + 5, 'the nine lookup indexes and the five unique ones');
    for (const { indexname, indexdef } of defs) assert.match(indexdef, /WHERE/, `${indexname} is partial: ${indexdef}`);
    for (const name of new Set(LOOKUPS.flatMap((l) => l.index).filter((n) => !n.includes('unique')))) {
      const def = defs.find((d) => d.indexname === name)?.indexdef ?? '';
      assert.match(def, /security_groups/, `${name} leaves out security groups: ${def}`);
    }

    for (const { index, kind, fields } of LOOKUPS) {
      const args: unknown[] = [kind];
      let where = 'kind = $1';
      for (const [k, v] of Object.entries(fields)) {
        args.push(v);
        where += ` AND data->>'${k}' = $${args.length} AND json_typeof(data->'${k}') = 'string'`;
      }
      const plan = await db.query(`EXPLAIN (FORMAT JSON) SELECT data FROM vnet_docs WHERE ${where} ORDER BY seq`, args);
      const text = JSON.stringify(plan.rows);
      const used = /"Index Name":"(\w+)"/.exec(text)?.[1];
      assert.ok(used && [index].flat().includes(used), `${kind} by ${Object.keys(fields)} uses ${index}: ${text}`);
    }
  });
});
