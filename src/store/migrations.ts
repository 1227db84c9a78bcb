// Schema migrations, applied in order inside one transaction each: SQLite's (`user_version` records the last one)
// and PostgreSQL's (`vnet_schema.version`).

/** Each entry is the SQL of one migration; never edit a shipped one, append a new one. */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: documents per kind, change log, and the revision counter.
  `
  CREATE TABLE docs (
    kind TEXT NOT NULL,
    uuid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, uuid)
  );
  CREATE INDEX docs_kind_seq ON docs(kind, seq);
  CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    resource TEXT NOT NULL,
    uuid TEXT NOT NULL,
    op TEXT NOT NULL,
    item TEXT
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO meta(key, value) VALUES ('revision', 0), ('seq', 0);
  `,
  // 2: indexes for the lookups the service does on every write (leases by owner, uniqueness checks).
  `
  CREATE INDEX docs_iface ON docs(kind, json_extract(data, '$.interface_uuid'));
  CREATE INDEX docs_network ON docs(kind, json_extract(data, '$.network_uuid'));
  CREATE INDEX docs_mac ON docs(kind, json_extract(data, '$.mac_address'));
  CREATE INDEX docs_ip ON docs(kind, json_extract(data, '$.ipv4_address'));
  CREATE INDEX docs_dp ON docs(kind, json_extract(data, '$.datapath_uuid'));
  CREATE INDEX docs_mlease ON docs(kind, json_extract(data, '$.mac_lease_uuid'));
  CREATE INDEX docs_rl ON docs(kind, json_extract(data, '$.route_link_uuid'));
  CREATE UNIQUE INDEX docs_unique_mac ON docs(json_extract(data, '$.mac_address')) WHERE kind = 'mac_leases';
  CREATE UNIQUE INDEX docs_unique_ip ON docs(json_extract(data, '$.network_uuid'), json_extract(data, '$.ipv4_address'))
    WHERE kind = 'ip_leases';
  CREATE UNIQUE INDEX docs_unique_dpid ON docs(json_extract(data, '$.dpid')) WHERE kind = 'datapaths';
  CREATE UNIQUE INDEX docs_unique_tunnel_key ON docs(json_extract(data, '$.tunnel_key')) WHERE kind = 'networks';
  CREATE UNIQUE INDEX docs_unique_ct_zone ON docs(json_extract(data, '$.ct_zone')) WHERE kind = 'networks';
  `,
  // 3: the per-network address check and the lookups by datapath, without scanning a kind.
  `
  CREATE INDEX docs_net_ip ON docs(kind, json_extract(data, '$.network_uuid'), json_extract(data, '$.ipv4_address'));
  CREATE INDEX docs_owner_dp ON docs(kind, json_extract(data, '$.owner_datapath_uuid'));
  CREATE INDEX docs_dpid ON docs(kind, json_extract(data, '$.dpid'));
  DROP INDEX docs_ip;
  `,
  // 4: networks gained vlan_id (physical networks; null = flat or virtual): every stored network carries it.
  `
  UPDATE docs SET data = json_set(data, '$.vlan_id', json('null'))
    WHERE kind = 'networks' AND json_type(data, '$.vlan_id') IS NULL;
  `,
  // 5: routes gained gateway_ipv4_address (a next hop; null = none): every stored route carries it.
  `
  UPDATE docs SET data = json_set(data, '$.gateway_ipv4_address', json('null'))
    WHERE kind = 'routes' AND json_type(data, '$.gateway_ipv4_address') IS NULL;
  `,
  // 6: translations report where their floating addresses are active (active_datapath_uuid, null = nowhere).
  `
  UPDATE docs SET data = json_set(data, '$.active_datapath_uuid', json('null'))
    WHERE kind = 'translations' AND json_type(data, '$.active_datapath_uuid') IS NULL;
  `,
  // 7: snat translations have a conntrack zone (null for static_address); a datapath's row of a network may
  // make it a gateway candidate (gateway_priority, null = never).
  `
  UPDATE docs SET data = json_set(data, '$.ct_zone', json('null'))
    WHERE kind = 'translations' AND json_type(data, '$.ct_zone') IS NULL;
  UPDATE docs SET data = json_set(data, '$.gateway_priority', json('null'))
    WHERE kind = 'datapath_networks' AND json_type(data, '$.gateway_priority') IS NULL;
  `,
  // 8: segments gained a tunnel key (the networks' key space) and a conntrack zone (the networks' and snat
  // translations' zones): stored segments get the next ones after the highest in use, in uuid order.
  `
  UPDATE docs SET data = json_set(data,
      '$.tunnel_key',
        (SELECT COALESCE(MAX(json_extract(o.data, '$.tunnel_key')), 0) FROM docs o WHERE o.kind = 'networks')
        + (SELECT COUNT(*) FROM docs s WHERE s.kind = 'segments' AND s.uuid <= docs.uuid),
      '$.ct_zone',
        (SELECT COALESCE(MAX(json_extract(o.data, '$.ct_zone')), 0) FROM docs o
          WHERE o.kind IN ('networks', 'translations'))
        + (SELECT COUNT(*) FROM docs s WHERE s.kind = 'segments' AND s.uuid <= docs.uuid))
    WHERE kind = 'segments' AND json_type(data, '$.tunnel_key') IS NULL;
  `,
  // 9: Neutron's attributes on the objects it shares with OpenVNet's API (project, description, device, shared,
  // external): every stored network, interface, security group and route link carries them.
  `
  UPDATE docs SET data = json_set(data, '$.project_id', json('null'), '$.description', '',
      '$.shared', json('false'), '$.external', json('false'))
    WHERE kind = 'networks' AND json_type(data, '$.project_id') IS NULL;
  UPDATE docs SET data = json_set(data, '$.project_id', json('null'), '$.description', '',
      '$.device_owner', '', '$.device_id', '')
    WHERE kind = 'interfaces' AND json_type(data, '$.project_id') IS NULL;
  UPDATE docs SET data = json_set(data, '$.project_id', json('null'))
    WHERE kind = 'security_groups' AND json_type(data, '$.project_id') IS NULL;
  UPDATE docs SET data = json_set(data, '$.project_id', json('null'), '$.description', '',
      '$.admin_state_up', json('true'))
    WHERE kind = 'route_links' AND json_type(data, '$.project_id') IS NULL;
  `,
  // 10: segments gained vlan_id (physical segments; null = flat or virtual): every stored segment carries it.
  `
  UPDATE docs SET data = json_set(data, '$.vlan_id', json('null'))
    WHERE kind = 'segments' AND json_type(data, '$.vlan_id') IS NULL;
  `,
  // 11: interfaces keep their static route link associations (static_route_link_uuids, [] = none).
  `
  UPDATE docs SET data = json_set(data, '$.static_route_link_uuids', json('[]'))
    WHERE kind = 'interfaces' AND json_type(data, '$.static_route_link_uuids') IS NULL;
  `,
];

/** PostgreSQL's lookup indexes as migration 1 made them: name suffix and the document fields after `kind`. */
const LOOKUP_INDEXES: readonly (readonly [string, readonly string[]])[] = [
  ['iface', ['interface_uuid']],
  ['network', ['network_uuid']],
  ['mac', ['mac_address']],
  ['dp', ['datapath_uuid']],
  ['mlease', ['mac_lease_uuid']],
  ['rl', ['route_link_uuid']],
  ['net_ip', ['network_uuid', 'ipv4_address']],
  ['owner_dp', ['owner_datapath_uuid']],
  ['dpid', ['dpid']],
];

/** Every lookup index re-made to leave out the given kinds (PostgreSQL migration 4's SQL). */
function lookupIndexesWithout(kinds: readonly string[]): string {
  const where = `WHERE kind NOT IN (${kinds.map((k) => `'${k}'`).join(', ')})`;
  return LOOKUP_INDEXES.map(([name, fields]) => {
    const cols = fields.map((f) => `(data->>'${f}')`).join(', ');
    return `DROP INDEX vnet_docs_${name};\nCREATE INDEX vnet_docs_${name} ON vnet_docs(kind, ${cols}) ${where};`;
  }).join('\n');
}

/**
 * PostgreSQL: each entry is the SQL of one migration; never edit a shipped one, append a new one. Documents are
 * `json` (kept as written, so key order survives like SQLite's text) with the same expression indexes as SQLite's;
 * change items are text, sent to the feed as stored. Every table is `vnet_`-prefixed, so the database may be shared.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  // 1: SQLite's schema as of its migration 7 (networks, routes, translations, datapath_networks' later fields are
  // written by the service on every document from the start).
  `
  CREATE TABLE vnet_docs (
    kind text NOT NULL,
    uuid text NOT NULL,
    seq bigserial NOT NULL,
    data json NOT NULL,
    PRIMARY KEY (kind, uuid)
  );
  CREATE INDEX vnet_docs_kind_seq ON vnet_docs(kind, seq);
  CREATE TABLE vnet_changes (
    revision bigint PRIMARY KEY,
    resource text NOT NULL,
    uuid text NOT NULL,
    op text NOT NULL,
    item text
  );
  CREATE TABLE vnet_meta (key text PRIMARY KEY, value bigint NOT NULL);
  INSERT INTO vnet_meta(key, value) VALUES ('revision', 0);
  CREATE INDEX vnet_docs_iface ON vnet_docs(kind, (data->>'interface_uuid'));
  CREATE INDEX vnet_docs_network ON vnet_docs(kind, (data->>'network_uuid'));
  CREATE INDEX vnet_docs_mac ON vnet_docs(kind, (data->>'mac_address'));
  CREATE INDEX vnet_docs_dp ON vnet_docs(kind, (data->>'datapath_uuid'));
  CREATE INDEX vnet_docs_mlease ON vnet_docs(kind, (data->>'mac_lease_uuid'));
  CREATE INDEX vnet_docs_rl ON vnet_docs(kind, (data->>'route_link_uuid'));
  CREATE INDEX vnet_docs_net_ip ON vnet_docs(kind, (data->>'network_uuid'), (data->>'ipv4_address'));
  CREATE INDEX vnet_docs_owner_dp ON vnet_docs(kind, (data->>'owner_datapath_uuid'));
  CREATE INDEX vnet_docs_dpid ON vnet_docs(kind, (data->>'dpid'));
  CREATE UNIQUE INDEX vnet_docs_unique_mac ON vnet_docs((data->>'mac_address')) WHERE kind = 'mac_leases';
  CREATE UNIQUE INDEX vnet_docs_unique_ip ON vnet_docs((data->>'network_uuid'), (data->>'ipv4_address'))
    WHERE kind = 'ip_leases';
  CREATE UNIQUE INDEX vnet_docs_unique_dpid ON vnet_docs((data->>'dpid')) WHERE kind = 'datapaths';
  CREATE UNIQUE INDEX vnet_docs_unique_tunnel_key ON vnet_docs((data->>'tunnel_key')) WHERE kind = 'networks';
  CREATE UNIQUE INDEX vnet_docs_unique_ct_zone ON vnet_docs((data->>'ct_zone')) WHERE kind = 'networks';
  `,
  // 2: as SQLite's 8 — segments gained a tunnel key and a conntrack zone, the next ones after the highest in use.
  `
  UPDATE vnet_docs d SET data = (d.data::jsonb || jsonb_build_object(
      'tunnel_key',
        (SELECT COALESCE(MAX((o.data->>'tunnel_key')::bigint), 0) FROM vnet_docs o WHERE o.kind = 'networks')
        + (SELECT COUNT(*) FROM vnet_docs s WHERE s.kind = 'segments' AND s.uuid <= d.uuid),
      'ct_zone',
        (SELECT COALESCE(MAX((o.data->>'ct_zone')::bigint), 0) FROM vnet_docs o
          WHERE o.kind IN ('networks', 'translations'))
        + (SELECT COUNT(*) FROM vnet_docs s WHERE s.kind = 'segments' AND s.uuid <= d.uuid)))::json
    WHERE d.kind = 'segments' AND d.data->>'tunnel_key' IS NULL;
  `,
  // 3: as SQLite's 9 (Neutron's attributes on networks, interfaces, security groups and route links).
  `
  UPDATE vnet_docs SET data = (data::jsonb || '{"project_id":null,"description":"","shared":false,"external":false}')::json
    WHERE kind = 'networks' AND data->'project_id' IS NULL;
  UPDATE vnet_docs SET data = (data::jsonb || '{"project_id":null,"description":"","device_owner":"","device_id":""}')::json
    WHERE kind = 'interfaces' AND data->'project_id' IS NULL;
  UPDATE vnet_docs SET data = (data::jsonb || '{"project_id":null}')::json
    WHERE kind = 'security_groups' AND data->'project_id' IS NULL;
  UPDATE vnet_docs SET data = (data::jsonb || '{"project_id":null,"description":"","admin_state_up":true}')::json
    WHERE kind = 'route_links' AND data->'project_id' IS NULL;
  `,
  // 4: the lookup indexes leave out the kinds whose documents carry long lists and are never looked up by those
  // fields (a security group's rules, a DNS service's records, a range group's ranges): a `json` document's
  // expression indexes parse its whole text again at every update, and a rule write to a group of 700 rules spent
  // 13 of its 15 ms of SQL there. Lookups name their kind (`kind = $1`, planned with its value), which proves
  // the predicate, so they keep their index.
  lookupIndexesWithout(['security_groups', 'dns_services', 'ip_range_groups', 'mac_range_groups']),
  // 5: as SQLite's 10 (segments gained vlan_id).
  `
  UPDATE vnet_docs SET data = (data::jsonb || '{"vlan_id":null}')::json
    WHERE kind = 'segments' AND data->'vlan_id' IS NULL;
  `,
  // 6: as SQLite's 11 (interfaces' static_route_link_uuids).
  `
  UPDATE vnet_docs SET data = (data::jsonb || '{"static_route_link_uuids":[]}')::json
    WHERE kind = 'interfaces' AND data->'static_route_link_uuids' IS NULL;
  `,
];
