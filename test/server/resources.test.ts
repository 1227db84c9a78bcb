// API resources through HTTP: CRUD + pagination of every resource, both prefixes, body forms, validation errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, fails, ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startServer({ listen: false });
});
after(async () => {
  await s.close();
});

/** Fixtures every resource test may lean on, created once. */
async function fixtures() {
  if ((await call(s, 'GET', '/api/datapaths/dp-fix')).status === 200) return;
  await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-fix', dpid: '0xf1', node_id: 'fix' });
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-fix', ipv4_network: '10.9.0.0', ipv4_prefix: 16 });
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-fix',
    network_uuid: 'nw-fix',
    ipv4_address: '10.9.0.1',
    mac_address: '02:00:00:00:f1:01',
    mode: 'simulated',
  });
  await ok(s, 'POST', '/api/route_links', { uuid: 'rl-fix', mac_address: '02:00:00:00:f1:ff' });
  await ok(s, 'POST', '/api/network_services', { uuid: 'ns-fixdns', mode: 'dns', interface_uuid: 'if-fix' });
}

interface Case {
  kind: string;
  prefix: string;
  create: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  update: Record<string, unknown>;
  check: (item: any) => void;
}

let n = 0;
const next = () => ++n;

const CASES: Case[] = [
  {
    kind: 'datapaths',
    prefix: 'dp',
    create: () => ({ display_name: 'x', dpid: `0x${(0x1000 + next()).toString(16)}`, node_id: 'n' }),
    update: { display_name: 'renamed', node_id: 'n2', ipv4_address: '192.168.0.9', enable_ovs_learn_action: false },
    check: (d) => {
      assert.equal(d.node_id, 'n2');
      assert.equal(d.ipv4_address, '192.168.0.9');
      assert.equal(d.enable_ovs_learn_action, false);
      assert.match(d.dpid, /^0x[0-9a-f]{16}$/);
    },
  },
  {
    kind: 'networks',
    prefix: 'nw',
    create: () => ({ ipv4_network: `10.${next()}.0.0`, ipv4_prefix: 24 }),
    update: { display_name: 'n', domain_name: 'd', mtu: 1450, dns_servers: '8.8.8.8,1.1.1.1', dhcp_lease_time: 600 },
    check: (d) => {
      assert.equal(d.mtu, 1450);
      assert.equal(d.dns_servers, '8.8.8.8,1.1.1.1');
      assert.equal(d.dhcp_lease_time, 600);
      assert.equal(d.network_mode, 'virtual');
    },
  },
  {
    kind: 'interfaces',
    prefix: 'if',
    create: () => ({ display_name: 'i' }),
    update: { display_name: 'j', enable_routing: true, port_name: 'tap9', owner_datapath_uuid: 'dp-fix' },
    check: (d) => {
      assert.equal(d.enable_routing, true);
      assert.equal(d.port_name, 'tap9');
      assert.equal(d.mode, 'vif');
      assert.deepEqual(d.mac_leases, []);
    },
  },
  {
    kind: 'mac_leases',
    prefix: 'ml',
    create: () => ({ interface_uuid: 'if-fix', mac_address: `02:00:00:01:00:${next().toString(16).padStart(2, '0')}` }),
    update: { mac_address: '02:00:00:02:00:01' },
    check: (d) => assert.equal(d.mac_address, '02:00:00:02:00:01'),
  },
  {
    kind: 'ip_leases',
    prefix: 'il',
    create: () => ({ network_uuid: 'nw-fix', ipv4_address: `10.9.1.${next()}` }),
    update: { enable_routing: true, ipv4_address: '10.9.2.1' },
    check: (d) => {
      assert.equal(d.enable_routing, true);
      assert.equal(d.ipv4_address, '10.9.2.1');
      assert.equal(d.interface_uuid, null);
    },
  },
  {
    kind: 'network_services',
    prefix: 'ns',
    create: () => ({ display_name: 'svc' }),
    update: { mode: 'dhcp', incoming_port: 67 },
    check: (d) => {
      assert.equal(d.mode, 'dhcp');
      assert.equal(d.incoming_port, 67);
    },
  },
  {
    kind: 'route_links',
    prefix: 'rl',
    create: () => ({}),
    update: { display_name: 'l', mac_address: '02:00:00:03:00:01' },
    check: (d) => assert.equal(d.mac_address, '02:00:00:03:00:01'),
  },
  {
    kind: 'routes',
    prefix: 'r',
    // A destination of its own each: two routes to one destination on one route link are refused.
    create: () => ({
      interface_uuid: 'if-fix',
      route_link_uuid: 'rl-fix',
      ipv4_network: `10.${100 + (next() % 150)}.0.0`,
      ipv4_prefix: 16,
    }),
    update: { ipv4_network: '192.168.0.0', ipv4_prefix: 24, ingress: false },
    check: (d) => {
      assert.equal(d.network_uuid, 'nw-fix');
      assert.equal(d.ipv4_network, '192.168.0.0');
      assert.equal(d.ingress, false);
      assert.equal(d.egress, true);
    },
  },
  {
    kind: 'segments',
    prefix: 'seg',
    create: () => ({ mode: 'virtual' }),
    update: { display_name: 's' },
    check: (d) => {
      assert.equal(d.mode, 'virtual');
      assert.equal(d.display_name, 's');
    },
  },
  {
    kind: 'filters',
    prefix: 'fil',
    create: () => ({ interface_uuid: 'if-fix', mode: 'static' }),
    update: { ingress_passthrough: true },
    check: (d) => {
      assert.equal(d.ingress_passthrough, true);
      assert.equal(d.egress_passthrough, false);
      assert.deepEqual(d.statics, []);
    },
  },
  {
    kind: 'security_groups',
    prefix: 'sg',
    create: () => ({ display_name: 'web' }),
    update: { description: 'web servers' },
    check: (d) => {
      assert.equal(d.description, 'web servers');
      assert.deepEqual(d.rules, []);
    },
  },
  {
    kind: 'translations',
    prefix: 'tr',
    create: () => ({ interface_uuid: 'if-fix', mode: 'static_address' }),
    update: { passthrough: true },
    check: (d) => assert.equal(d.passthrough, true),
  },
  {
    kind: 'ip_range_groups',
    prefix: 'iprg',
    create: () => ({}),
    update: { allocation_type: 'decremental' },
    check: (d) => assert.equal(d.allocation_type, 'decremental'),
  },
  {
    kind: 'mac_range_groups',
    prefix: 'mrg',
    create: () => ({}),
    update: { allocation_type: 'incremental' },
    check: (d) => assert.equal(d.allocation_type, 'incremental'),
  },
  {
    kind: 'dns_services',
    prefix: 'dnss',
    create: async () => {
      const ns = await ok(s, 'POST', '/api/network_services', { mode: 'dns', interface_uuid: 'if-fix' });
      return { network_service_uuid: ns.uuid };
    },
    update: { public_dns: '8.8.4.4' },
    check: (d) => assert.equal(d.public_dns, '8.8.4.4'),
  },
];

describe('every resource: create, show, list, paginate, update, delete', () => {
  for (const c of CASES) {
    it(c.kind, async () => {
      await fixtures();
      // Generated uuid on one, client-chosen on the other; both prefixes.
      const a = await ok(s, 'POST', `/api/1.0/${c.kind}`, await c.create());
      assert.match(a.uuid, new RegExp(`^${c.prefix}-[a-z0-9]{8}$`));
      assert.ok(a.created_at && a.updated_at);
      const chosen = `${c.prefix}-t${n}`;
      const b = await ok(s, 'POST', `/api/${c.kind}`, { ...(await c.create()), uuid: chosen });
      assert.equal(b.uuid, chosen);
      await fails(s, 'POST', `/api/${c.kind}`, { ...(await c.create()), uuid: chosen }, 400, '102', 'uuid');
      assert.deepEqual(await ok(s, 'GET', `/api/${c.kind}/${chosen}`), b);
      assert.deepEqual(await ok(s, 'GET', `/api/1.0/${c.kind}/${chosen}.json`), b);

      const all = await ok(s, 'GET', `/api/${c.kind}`, { limit: 1000 });
      assert.equal(all.offset, 0);
      assert.equal(all.limit, 1000);
      assert.ok(all.total_count >= 2);
      assert.equal(all.items.length, all.total_count);
      const page = await ok(s, 'GET', `/api/${c.kind}`, { limit: 1, offset: 1 });
      assert.equal(page.items.length, 1);
      assert.equal(page.total_count, all.total_count);
      assert.deepEqual(page.items[0], all.items[1]);
      const beyond = await ok(s, 'GET', `/api/${c.kind}`, { offset: 100000 });
      assert.deepEqual(beyond.items, []);

      const u = await ok(s, 'PUT', `/api/${c.kind}/${chosen}`, c.update);
      c.check(u);
      assert.ok(u.updated_at >= b.updated_at);
      assert.deepEqual(await ok(s, 'GET', `/api/${c.kind}/${chosen}`), u);
      await fails(s, 'PUT', `/api/${c.kind}/${chosen}`, { no_such_field: 1 }, 400, '110', 'no_such_field');
      await fails(s, 'PUT', `/api/${c.kind}/${c.prefix}-missing`, c.update, 404, '100');
      await fails(s, 'GET', `/api/${c.kind}/${c.prefix}-NOPE`, {}, 400, '101', 'uuid');
      await fails(s, 'GET', `/api/${c.kind}/zz-abc`, {}, 400, '101', 'uuid');

      assert.deepEqual(await ok(s, 'DELETE', `/api/${c.kind}/${chosen}`), [chosen]);
      await fails(s, 'GET', `/api/${c.kind}/${chosen}`, {}, 404, '100');
      await fails(s, 'DELETE', `/api/${c.kind}/${chosen}`, {}, 404, '100');
      assert.deepEqual(await ok(s, 'DELETE', `/api/1.0/${c.kind}/${a.uuid}.json`), [a.uuid]);
    });
  }
});

describe('parameter forms', () => {
  for (const mode of ['query', 'form', 'json', 'wrapper'] as const) {
    it(`accepts params as ${mode}`, async () => {
      const id = `nw-form${mode}`;
      const r = await call(
        s,
        'POST',
        '/api/networks',
        { uuid: id, ipv4_network: '10.200.0.0', ipv4_prefix: '24', network_mode: 'physical' },
        mode,
        'network',
      );
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.uuid, id);
      assert.equal(r.body.ipv4_prefix, 24);
      assert.equal(r.body.network_mode, 'physical');
      const u = await call(s, 'PUT', `/api/networks/${id}`, { mtu: '1400', display_name: mode }, mode, 'network');
      assert.equal(u.status, 200, u.text);
      assert.equal(u.body.mtu, 1400);
      await ok(s, 'DELETE', `/api/networks/${id}`);
    });
  }

  it('JSON booleans and numbers, and their string forms', async () => {
    const a = await ok(s, 'POST', '/api/interfaces', { enable_routing: true, enable_filtering: 'false' });
    assert.equal(a.enable_routing, true);
    assert.equal(a.enable_filtering, false);
    const b = await ok(s, 'POST', '/api/interfaces', { enable_routing: 't' }, 'query');
    assert.equal(b.enable_routing, true);
    await fails(s, 'POST', '/api/interfaces', { enable_routing: 'maybe' }, 400, '110', 'enable_routing');
    await fails(s, 'POST', '/api/interfaces', { enable_routing: 3 }, 400, '110', 'enable_routing');
  });

  it('query and body together; conflicting duplicates refused', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/networks?uuid=nw-mixed',
      payload: { ipv4_network: '10.201.0.0' },
    });
    assert.equal(r.statusCode, 200, r.body);
    const c = await s.app.inject({
      method: 'POST',
      url: '/api/networks?uuid=nw-mixed2',
      payload: { uuid: 'nw-other', ipv4_network: '10.202.0.0' },
    });
    assert.equal(c.statusCode, 400);
    assert.equal(JSON.parse(c.body).field, 'uuid');
  });

  it('repeated query parameters are refused, not merged', async () => {
    const r = await s.app.inject({ method: 'POST', url: '/api/networks?ipv4_network=10.1.1.0&ipv4_network=10.1.2.0' });
    assert.equal(r.statusCode, 400);
    assert.equal(JSON.parse(r.body).field, 'ipv4_network');
  });

  it('broken bodies and odd content types are 4xx with the error shape', async () => {
    for (const [ct, payload] of [
      ['application/json', '{"uuid": '],
      ['application/json', '[1,2]'],
      ['application/json', '"str"'],
      ['application/json', '{"__proto__": {"x": 1}}'],
      ['text/plain', 'hello'],
      ['application/xml', '<a/>'],
    ] as const) {
      const r = await s.app.inject({ method: 'POST', url: '/api/networks', headers: { 'content-type': ct }, payload });
      assert.ok(r.statusCode >= 400 && r.statusCode < 500, `${ct} ${payload} → ${r.statusCode} ${r.body}`);
      assert.equal(typeof JSON.parse(r.body).code, 'string');
    }
  });

  it('YAML suffix answers YAML, unknown routes 404 with the error shape', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/api/1.0/datapaths.yml' });
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /^total_count: \d+/m);
    const nf = await call(s, 'GET', '/api/1.0/nothing_here');
    assert.equal(nf.status, 404);
    assert.equal(nf.body.code, '122');
  });

  it('OpenAPI document lists the resources', async () => {
    const r = await call(s, 'GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    assert.ok(r.body.openapi.startsWith('3.'));
    for (const p of ['/api/1.0/datapaths', '/api/1.0/interfaces/{uuid}', '/api/1.0/feed/changes'])
      assert.ok(r.body.paths[p], `openapi has ${p}`);
    assert.ok(r.body.paths['/api/1.0/networks'].post.requestBody);
  });
});

describe('validation', () => {
  it("routes: the next hop (gateway_ipv4_address) must be in the route's network", async () => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-gw', ipv4_network: '192.168.60.0', network_mode: 'physical' });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-gwr',
      mode: 'simulated',
      network_uuid: 'nw-gw',
      ipv4_address: '192.168.60.254',
      mac_address: '02:00:60:00:00:fe',
    });
    await ok(s, 'POST', '/api/route_links', { uuid: 'rl-gw' });
    const base = { interface_uuid: 'if-gwr', route_link_uuid: 'rl-gw', ipv4_network: '0.0.0.0', ipv4_prefix: 0 };
    await fails(
      s,
      'POST',
      '/api/routes',
      { ...base, gateway_ipv4_address: '10.9.9.9' },
      400,
      '110',
      'gateway_ipv4_address',
    );
    const r = await ok(s, 'POST', '/api/routes', { ...base, uuid: 'r-gw', gateway_ipv4_address: '192.168.60.1' });
    assert.equal(r.gateway_ipv4_address, '192.168.60.1');
    await fails(s, 'PUT', '/api/routes/r-gw', { gateway_ipv4_address: '10.9.9.9' }, 400, '110', 'gateway_ipv4_address');
    assert.equal((await ok(s, 'PUT', '/api/routes/r-gw', { gateway_ipv4_address: null })).gateway_ipv4_address, null);
    await ok(s, 'DELETE', '/api/interfaces/if-gwr');
    await ok(s, 'DELETE', '/api/networks/nw-gw');
    await ok(s, 'DELETE', '/api/route_links/rl-gw');
  });

  it('physical networks: vlan_id 1-4094, only on physical networks, one network per tag', async () => {
    const base = { ipv4_network: '192.168.50.0', network_mode: 'physical' };
    await fails(s, 'POST', '/api/networks', { ...base, vlan_id: 0 }, 400, '110', 'vlan_id');
    await fails(s, 'POST', '/api/networks', { ...base, vlan_id: 4095 }, 400, '110', 'vlan_id');
    await fails(s, 'POST', '/api/networks', { ipv4_network: '192.168.50.0', vlan_id: 50 }, 400, '110', 'vlan_id');
    const p50 = await ok(s, 'POST', '/api/networks', { ...base, uuid: 'nw-vlan50', vlan_id: '50' }, 'form');
    assert.equal(p50.vlan_id, 50);
    await fails(
      s,
      'POST',
      '/api/networks',
      { ...base, ipv4_network: '192.168.51.0', vlan_id: 50 },
      409,
      '120',
      'vlan_id',
    );
    // A virtual network has no VLAN; a physical one without a tag is flat.
    await fails(s, 'PUT', '/api/networks/nw-vlan50', { network_mode: 'virtual' }, 400, '110', 'vlan_id');
    const flat = await ok(s, 'POST', '/api/networks', { ...base, ipv4_network: '192.168.52.0', uuid: 'nw-flat52' });
    assert.equal(flat.vlan_id, null);
    assert.equal((await ok(s, 'PUT', '/api/networks/nw-vlan50', { vlan_id: null })).vlan_id, null);
    assert.equal((await ok(s, 'GET', '/api/networks', { vlan_id: 50 })).total_count, 0);
    await ok(s, 'DELETE', '/api/networks/nw-vlan50');
    await ok(s, 'DELETE', '/api/networks/nw-flat52');
  });

  it('datapaths', async () => {
    await fails(s, 'POST', '/api/datapaths', { node_id: 'a' }, 400, '111', 'dpid');
    await fails(s, 'POST', '/api/datapaths', { dpid: '0x1' }, 400, '111', 'node_id');
    await fails(s, 'POST', '/api/datapaths', { dpid: '0xgg', node_id: 'a' }, 400, '110', 'dpid');
    await fails(s, 'POST', '/api/datapaths', { dpid: '0x11112222333344445', node_id: 'a' }, 400, '110', 'dpid');
    await fails(
      s,
      'POST',
      '/api/datapaths',
      { dpid: '1', node_id: 'a', ipv4_address: '1.2.3' },
      400,
      '110',
      'ipv4_address',
    );
    await fails(s, 'POST', '/api/datapaths', { dpid: '1', node_id: 'a', uuid: 'dp-UPPER' }, 400, '101', 'uuid');
    await fails(
      s,
      'POST',
      '/api/datapaths',
      { dpid: '1', node_id: 'a', uuid: 'dp-12345678901234567' },
      400,
      '101',
      'uuid',
    );
    await fails(s, 'POST', '/api/datapaths', { dpid: '1', node_id: 'a', uuid: 'nw-abc' }, 400, '101', 'uuid');
    await fails(s, 'POST', '/api/datapaths', { dpid: '1', node_id: 'x'.repeat(300) }, 400, '110', 'node_id');
    const d = await ok(s, 'POST', '/api/datapaths', { dpid: 'ABCDEF', node_id: 'a' });
    assert.equal(d.dpid, '0x0000000000abcdef');
    await fails(s, 'POST', '/api/datapaths', { dpid: '0xabcdef', node_id: 'b' }, 409, '120', 'dpid');
    const byDpid = await ok(s, 'GET', '/api/datapaths', { dpid: '0xabcdef' });
    assert.deepEqual(
      byDpid.items.map((x: any) => x.uuid),
      [d.uuid],
    );
    await fails(s, 'PUT', `/api/datapaths/${d.uuid}`, { uuid: 'dp-other' }, 400, '121', 'uuid');
    await ok(s, 'PUT', `/api/datapaths/${d.uuid}`, { uuid: d.uuid, display_name: 'same uuid is fine' });
  });

  it('networks', async () => {
    await fails(s, 'POST', '/api/networks', {}, 400, '111', 'ipv4_network');
    await fails(s, 'POST', '/api/networks', { ipv4_network: '10.0.0.256' }, 400, '110', 'ipv4_network');
    await fails(s, 'POST', '/api/networks', { ipv4_network: '10.0.0.1', ipv4_prefix: 24 }, 400, '110', 'ipv4_network');
    await fails(s, 'POST', '/api/networks', { ipv4_network: '10.0.0.0', ipv4_prefix: 33 }, 400, '110', 'ipv4_prefix');
    await fails(
      s,
      'POST',
      '/api/networks',
      { ipv4_network: '10.0.0.0', network_mode: 'bogus' },
      400,
      '110',
      'network_mode',
    );
    await fails(s, 'POST', '/api/networks', { ipv4_network: '10.0.0.0', mtu: 20 }, 400, '110', 'mtu');
    await fails(
      s,
      'POST',
      '/api/networks',
      { ipv4_network: '10.0.0.0', dns_servers: '8.8.8.8,x' },
      400,
      '110',
      'dns_servers',
    );
    await fails(
      s,
      'POST',
      '/api/networks',
      { ipv4_network: '10.0.0.0', segment_uuid: 'seg-nope' },
      404,
      '100',
      'segment_uuid',
    );
    const nw = await ok(s, 'POST', '/api/networks', { ipv4_network: '10.250.0.0', mode: 'internal' });
    assert.equal(nw.network_mode, 'internal');
    for (const f of ['ipv4_network', 'ipv4_prefix', 'tunnel_key', 'ct_zone'])
      await fails(s, 'PUT', `/api/networks/${nw.uuid}`, { [f]: f === 'ipv4_network' ? '10.0.0.0' : 5 }, 400, '121', f);
    const cleared = await ok(s, 'PUT', `/api/networks/${nw.uuid}`, { mtu: '', dns_servers: null });
    assert.equal(cleared.mtu, null);
    assert.equal(cleared.dns_servers, null);
  });

  it('tunnel keys and ct zones are allocated unique, in range', async () => {
    const seen = new Set<number>();
    const zones = new Set<number>();
    const list = await ok(s, 'GET', '/api/networks', { limit: 10000 });
    for (const nw of list.items) {
      assert.ok(nw.tunnel_key >= 1 && nw.tunnel_key <= 0xffffff);
      assert.ok(nw.ct_zone >= 1 && nw.ct_zone <= 0xffff);
      assert.ok(!seen.has(nw.tunnel_key));
      assert.ok(!zones.has(nw.ct_zone));
      seen.add(nw.tunnel_key);
      zones.add(nw.ct_zone);
    }
    assert.ok(seen.size >= 2);
  });

  it('interfaces: addresses, uniqueness, defaults', async () => {
    await fixtures();
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-v', ipv4_network: '172.30.0.0', ipv4_prefix: 24 });
    const base = { network_uuid: 'nw-v', mac_address: '02:00:00:0a:00:01' };
    await fails(s, 'POST', '/api/interfaces', { ...base, ipv4_address: '172.31.0.5' }, 400, '110', 'ipv4_address');
    await fails(s, 'POST', '/api/interfaces', { ...base, ipv4_address: '172.30.0.0' }, 400, '110', 'ipv4_address');
    await fails(s, 'POST', '/api/interfaces', { ...base, ipv4_address: '172.30.0.255' }, 400, '110', 'ipv4_address');
    await fails(s, 'POST', '/api/interfaces', { ...base, mac_address: '02:00:00:0a:00' }, 400, '110', 'mac_address');
    await fails(
      s,
      'POST',
      '/api/interfaces',
      { ipv4_address: '172.30.0.5', mac_address: '02:00:00:0a:00:01' },
      400,
      '111',
      'network_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/interfaces',
      { network_uuid: 'nw-v', ipv4_address: '172.30.0.5' },
      400,
      '111',
      'mac_address',
    );
    await fails(s, 'POST', '/api/interfaces', { ...base, network_uuid: 'nw-none' }, 404, '100', 'network_uuid');
    await fails(s, 'POST', '/api/interfaces', { mode: 'tap' }, 400, '110', 'mode');
    await fails(s, 'POST', '/api/interfaces', { owner_datapath_uuid: 'dp-none' }, 404, '100', 'owner_datapath_uuid');
    const a = await ok(s, 'POST', '/api/interfaces', {
      ...base,
      ipv4_address: '172.30.0.5',
      mac_address: '02:00:00:0A:00:01',
    });
    assert.equal(a.mode, 'vif');
    assert.equal(a.mac_address, '02:00:00:0a:00:01');
    assert.equal(a.ipv4_address, '172.30.0.5');
    assert.equal(a.network_uuid, 'nw-v');
    assert.equal(a.status, 'down');
    assert.equal(a.mac_leases.length, 1);
    assert.match(a.mac_leases[0].uuid, /^ml-/);
    assert.deepEqual(
      a.mac_leases[0].ip_leases.map((l: any) => l.ipv4_address),
      ['172.30.0.5'],
    );
    await fails(s, 'POST', '/api/interfaces', { ...base, ipv4_address: '172.30.0.6' }, 409, '120', 'mac_address');
    await fails(
      s,
      'POST',
      '/api/interfaces',
      { ...base, mac_address: '02:00:00:0a:00:02', ipv4_address: '172.30.0.5' },
      409,
      '120',
      'ipv4_address',
    );
    // Failed creates left nothing behind (one transaction each).
    const list = await ok(s, 'GET', '/api/mac_leases', { mac_address: '02:00:00:0a:00:02' });
    assert.equal(list.total_count, 0);
    // Overlapping IPs in different networks are fine.
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-v2', ipv4_network: '172.30.0.0', ipv4_prefix: 24 });
    await ok(s, 'POST', '/api/interfaces', {
      network_uuid: 'nw-v2',
      mac_address: '02:00:00:0a:00:03',
      ipv4_address: '172.30.0.5',
    });
  });

  it('interfaces: PUT edits addresses through the leases', async () => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-p', ipv4_network: '172.29.0.0', ipv4_prefix: 24 });
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-p2', ipv4_network: '172.28.0.0', ipv4_prefix: 24 });
    const i = await ok(s, 'POST', '/api/interfaces', { uuid: 'if-put', network_uuid: 'nw-p' });
    assert.equal(i.network_uuid, 'nw-p');
    assert.equal(i.ipv4_address, null);
    await fails(s, 'PUT', '/api/interfaces/if-put', { ipv4_address: '172.29.0.9' }, 400, '111', 'mac_address');
    let u = await ok(s, 'PUT', '/api/interfaces/if-put', {
      mac_address: '02:00:00:0b:00:01',
      ipv4_address: '172.29.0.9',
    });
    assert.equal(u.ipv4_address, '172.29.0.9');
    u = await ok(s, 'PUT', '/api/interfaces/if-put', { ipv4_address: '172.29.0.10', mac_address: '02:00:00:0b:00:02' });
    assert.equal(u.ipv4_address, '172.29.0.10');
    assert.equal(u.mac_address, '02:00:00:0b:00:02');
    await fails(s, 'PUT', '/api/interfaces/if-put', { network_uuid: 'nw-p2' }, 400, '110', 'network_uuid');
    u = await ok(s, 'PUT', '/api/interfaces/if-put', { network_uuid: 'nw-p2', ipv4_address: '172.28.0.10' });
    assert.equal(u.network_uuid, 'nw-p2');
    u = await ok(s, 'PUT', '/api/interfaces/if-put', { ipv4_address: null });
    assert.equal(u.ipv4_address, null);
    assert.equal(u.mac_leases[0].ip_leases.length, 0);
    u = await ok(s, 'PUT', '/api/interfaces/if-put', { mac_address: null });
    assert.deepEqual(u.mac_leases, []);
    for (const f of ['status', 'active_datapath_uuid', 'active_port_name'])
      await fails(s, 'PUT', '/api/interfaces/if-put', { [f]: 'x' }, 400, '121', f);
  });

  it('ip_leases and mac_leases: attach, release, moves', async () => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-l', ipv4_network: '172.27.0.0', ipv4_prefix: 24 });
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-l1', mac_address: '02:00:00:0c:00:01' });
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-l2' });
    await fails(s, 'POST', '/api/ip_leases', { network_uuid: 'nw-l' }, 400, '111', 'ipv4_address');
    await fails(
      s,
      'POST',
      '/api/ip_leases',
      { network_uuid: 'nw-l', ipv4_address: '172.27.0.3', interface_uuid: 'if-l2' },
      400,
      '110',
      'interface_uuid',
    );
    const il = await ok(s, 'POST', '/api/ip_leases', {
      uuid: 'il-l',
      network_uuid: 'nw-l',
      ipv4_address: '172.27.0.3',
      interface_uuid: 'if-l1',
    });
    assert.equal(il.interface_uuid, 'if-l1');
    assert.match(il.mac_lease_uuid, /^ml-/);
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-l1')).ipv4_address, '172.27.0.3');
    const rel = await ok(s, 'PUT', '/api/ip_leases/il-l/release');
    assert.equal(rel.interface_uuid, null);
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-l1')).ipv4_address, null);
    await fails(s, 'PUT', '/api/ip_leases/il-l/attach', {}, 400, '110', 'interface_uuid');
    const att = await ok(s, 'PUT', '/api/ip_leases/il-l/attach', { interface_uuid: 'if-l1' });
    assert.equal(att.interface_uuid, 'if-l1');
    // Moving the MAC lease moves its IP leases too.
    const ml = await ok(s, 'PUT', `/api/mac_leases/${il.mac_lease_uuid}`, { interface_uuid: 'if-l2' });
    assert.equal(ml.interface_uuid, 'if-l2');
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-l2')).ipv4_address, '172.27.0.3');
    assert.equal((await ok(s, 'GET', '/api/ip_leases/il-l')).interface_uuid, 'if-l2');
    // Deleting the MAC lease deletes its IP leases.
    await ok(s, 'DELETE', `/api/mac_leases/${il.mac_lease_uuid}`);
    await fails(s, 'GET', '/api/ip_leases/il-l', {}, 404, '100');
  });

  it('routes, network services, filters, misc', async () => {
    await fixtures();
    await fails(
      s,
      'POST',
      '/api/routes',
      { interface_uuid: 'if-fix', ipv4_network: '10.9.0.0' },
      400,
      '111',
      'route_link_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/routes',
      { interface_uuid: 'if-fix', route_link_uuid: 'rl-fix', ipv4_network: '10.9.0.1' },
      400,
      '110',
      'ipv4_network',
    );
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-nonet' });
    await fails(
      s,
      'POST',
      '/api/routes',
      { interface_uuid: 'if-nonet', route_link_uuid: 'rl-fix', ipv4_network: '10.9.0.0' },
      400,
      '111',
      'network_uuid',
    );
    await fails(s, 'POST', '/api/network_services', { mode: 'ftp' }, 400, '110', 'mode');
    const ns = await ok(s, 'POST', '/api/network_services', { type: 'dhcp' });
    assert.equal(ns.mode, 'dhcp');
    await fails(s, 'POST', '/api/network_services', { type: 'dhcp', mode: 'dns' }, 400, '110', 'type');
    await fails(s, 'POST', '/api/network_services', { incoming_port: 70000 }, 400, '110', 'incoming_port');
    await fails(s, 'POST', '/api/dns_services', { network_service_uuid: ns.uuid }, 400, '103', 'network_service_uuid');
    await fails(s, 'POST', '/api/filters', { mode: 'static' }, 400, '111', 'interface_uuid');
    await fails(s, 'POST', '/api/filters', { interface_uuid: 'if-fix', mode: 'dynamic' }, 400, '110', 'mode');
    await fails(s, 'POST', '/api/segments', { mode: 'both' }, 400, '110', 'mode');
    await fails(s, 'POST', '/api/ip_range_groups', { allocation_type: 'x' }, 400, '110', 'allocation_type');
    await fails(s, 'GET', '/api/interfaces', { limit: -1 }, 400, '110', 'limit');
    await fails(s, 'GET', '/api/interfaces', { limit: 'lots' }, 400, '110', 'limit');
    await fails(s, 'GET', '/api/interfaces', { colour: 'red' }, 400, '110', 'colour');
  });
});

describe('big pages', () => {
  it('a page of more than 100 interfaces embeds the same leases as single GETs', async () => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-big', ipv4_network: '10.123.0.0', ipv4_prefix: 16 });
    for (let i = 1; i <= 130; i++)
      await ok(s, 'POST', '/api/interfaces', {
        uuid: `if-big${i}`,
        network_uuid: 'nw-big',
        ipv4_address: `10.123.0.${i}`,
        mac_address: `02:00:00:12:30:${i.toString(16).padStart(2, '0')}`,
      });
    await ok(s, 'POST', '/api/mac_leases', { interface_uuid: 'if-big7', mac_address: '02:00:00:12:31:07' });
    const page = await ok(s, 'GET', '/api/interfaces', { limit: 5000 });
    assert.ok(page.items.length > 100);
    for (const item of page.items.filter((x: any) => x.uuid.startsWith('if-big')))
      assert.deepEqual(item, await ok(s, 'GET', `/api/interfaces/${item.uuid}`));
    const small = await ok(s, 'GET', '/api/interfaces', { limit: 10, offset: page.items.length - 10 });
    assert.deepEqual(small.items, page.items.slice(-10));
  });
});
