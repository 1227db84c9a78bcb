// The Neutron v2.0 listener (src/server/neutron/) through fastify's inject: what OpenStack clients rely on
// (docs/reference neutron-api.md 1.3, 1.4, 2): discovery, request checks named after the attribute, defaults,
// allocations, in-use conflicts with Neutron's exception names, filters, routers and floating IPs realised as
// vnet's route links and translations, project scoping of member tokens, and one model shared with the OpenVNet
// API. Admin calls go without a token (a local-mode app: admin of project "admin"); members send X-Auth-Token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DhcpModel, type DhcpResources } from '../../src/dhcp/index.js';
import { buildNeutronApp } from '../../src/server/neutron/app.js';
import { ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
let neutron: FastifyInstance;
/** Member tokens of projects p1 and p2. */
let p1: string;
let p2: string;

interface R {
  status: number;
  body: any;
}

async function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token?: string): Promise<R> {
  const headers: Record<string, string> = {};
  if (token) headers['x-auth-token'] = token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await neutron.inject({
    method,
    url,
    headers,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.body === '' ? undefined : JSON.parse(r.body) };
}

/** Asserts the status and returns the body. */
function expect(r: R, status: number, what = ''): any {
  assert.equal(r.status, status, `${what} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Asserts a NeutronError of this status and type; returns its message. */
function refused(r: R, status: number, type: string): string {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body?.NeutronError?.type, type, JSON.stringify(r.body));
  assert.equal(typeof r.body.NeutronError.message, 'string');
  assert.equal(r.body.NeutronError.detail, '');
  return r.body.NeutronError.message as string;
}

const SINGULAR: Record<string, string> = {
  networks: 'network',
  subnets: 'subnet',
  ports: 'port',
  routers: 'router',
  floatingips: 'floatingip',
  'security-groups': 'security_group',
  'security-group-rules': 'security_group_rule',
};

/** POST /v2.0/<collection> expecting 201; the created object. */
async function make(collection: string, obj: Record<string, unknown> = {}, token?: string): Promise<any> {
  const key = SINGULAR[collection]!;
  const r = await api('POST', `/v2.0/${collection}`, { [key]: obj }, token);
  return expect(r, 201, `create ${key} ${JSON.stringify(obj)}`)[key];
}

const create = (collection: string, obj: Record<string, unknown>, token?: string) =>
  api('POST', `/v2.0/${collection}`, { [SINGULAR[collection]!]: obj }, token);
const update = (collection: string, id: string, obj: Record<string, unknown>, token?: string) =>
  api('PUT', `/v2.0/${collection}/${id}`, { [SINGULAR[collection]!]: obj }, token);
const show = async (collection: string, id: string, token?: string) =>
  expect(await api('GET', `/v2.0/${collection}/${id}`, undefined, token), 200)[SINGULAR[collection]!];
const list = async (collection: string, query = '', token?: string): Promise<any[]> =>
  expect(await api('GET', `/v2.0/${collection}${query}`, undefined, token), 200)[collection.replaceAll('-', '_')];

let cidrs = 0;
/** A network with a /24 subnet of its own (10.100+n.x.0/24), as most tests need. */
async function networkWithSubnet(extra: Record<string, unknown> = {}, token?: string) {
  const n = cidrs++;
  const network = await make('networks', { name: `net${n}` }, token);
  const subnet = await make(
    'subnets',
    { network_id: network.id, ip_version: 4, cidr: `10.${100 + Math.floor(n / 200)}.${n % 200}.0/24`, ...extra },
    token,
  );
  return { network, subnet };
}

/** An external network with a subnet, as an admin makes it (flat, on the hosts' uplinks). */
async function externalNetwork() {
  const n = cidrs++;
  const network = await make('networks', { name: `ext${n}`, 'router:external': true });
  const subnet = await make('subnets', {
    network_id: network.id,
    ip_version: 4,
    cidr: `192.168.${n % 250}.0/24`,
    enable_dhcp: false,
  });
  return { network, subnet };
}

before(async () => {
  s = await startServer({ listen: false });
  neutron = await buildNeutronApp({ service: s.service, mode: 'local' });
  await neutron.ready();
  p1 = (await ok(s, 'POST', '/api/1.0/tokens', { role: 'member', project_id: 'p1' })).token;
  p2 = (await ok(s, 'POST', '/api/1.0/tokens', { role: 'member', project_id: 'p2' })).token;
  assert.match(p1, /^tk-/);
});
after(async () => {
  await neutron?.close();
  await s?.close();
});

describe('discovery', () => {
  test('GET / answers the versions document without a token, on a server that requires tokens', async () => {
    const strict = await buildNeutronApp({ service: s.service, mode: 'tokens' });
    try {
      const r = await strict.inject({ method: 'GET', url: '/' });
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), {
        versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: '/v2.0/' }] }],
      });
      // Everything else needs a token there.
      const lists = await strict.inject({ method: 'GET', url: '/v2.0/networks' });
      assert.equal(lists.statusCode, 401);
      assert.equal(lists.json().NeutronError.type, 'Unauthorized');
      const member = await strict.inject({ method: 'GET', url: '/v2.0/networks', headers: { 'x-auth-token': p1 } });
      assert.equal(member.statusCode, 200, member.body);
    } finally {
      await strict.close();
    }
  });

  test('/v2.0/ lists the resources; /v2.0/extensions lists aliases; an unknown alias is a 404 NeutronError', async () => {
    const resources = expect(await api('GET', '/v2.0/'), 200).resources as any[];
    const collections = resources.map((r) => r.collection);
    for (const c of ['networks', 'subnets', 'ports', 'routers', 'floatingips', 'security_groups'])
      assert.ok(collections.includes(c), `${c} in ${collections}`);

    const exts = expect(await api('GET', '/v2.0/extensions'), 200).extensions as any[];
    const aliases = exts.map((e) => e.alias);
    for (const a of ['router', 'external-net', 'ext-gw-mode', 'security-group', 'port-security', 'provider'])
      assert.ok(aliases.includes(a), `${a} in ${aliases}`);
    for (const e of exts) {
      assert.deepEqual(e.links, []);
      assert.equal(typeof e.updated, 'string');
      assert.equal(typeof e.name, 'string');
      assert.equal(typeof e.description, 'string');
    }
    assert.equal(expect(await api('GET', '/v2.0/extensions/router'), 200).extension.alias, 'router');
    refused(await api('GET', '/v2.0/extensions/no-such-extension'), 404, 'ExtensionNotFound');
  });

  test('an unknown URL or an object that does not exist is a 404 NeutronError, never a 500', async () => {
    refused(await api('GET', '/v2.0/nowhere'), 404, 'HTTPNotFound');
    refused(await api('GET', '/v2.0/networks/not-a-uuid'), 404, 'NetworkNotFound');
    refused(await api('GET', '/v2.0/ports/if-doesnotexist'), 404, 'PortNotFound');
    refused(await api('DELETE', '/v2.0/routers/rl-doesnotexist'), 404, 'RouterNotFound');
  });
});

describe('networks', () => {
  test('created from an empty body with Neutron defaults', async () => {
    const n = await make('networks', {});
    assert.match(n.id, /\S/);
    assert.equal(n.name, '');
    assert.equal(n.description, '');
    assert.equal(n.admin_state_up, true);
    assert.equal(n.shared, false);
    assert.equal(n['router:external'], false);
    assert.deepEqual(n.subnets, []);
    assert.equal(n.status, 'ACTIVE');
    assert.equal(n.port_security_enabled, true);
    assert.equal(n.project_id, 'admin');
    assert.equal(n.tenant_id, n.project_id);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(await show('networks', n.id), n);
  });

  test('an unknown attribute is refused with 400 naming it', async () => {
    const msg = refused(await create('networks', { name: 'x', colour: 'blue' }), 400, 'HTTPBadRequest');
    assert.match(msg, /colour/);
    const put = refused(
      await update('networks', (await make('networks', {})).id, { flavour: 1 }),
      400,
      'HTTPBadRequest',
    );
    assert.match(put, /flavour/);
    // A body without the resource's key.
    refused(await api('POST', '/v2.0/networks', { net: {} }), 400, 'HTTPBadRequest');
  });

  test('mtu as a string is converted; a bad one is refused naming mtu', async () => {
    const n = await make('networks', { mtu: '1400' });
    assert.equal(n.mtu, 1400);
    assert.equal((await show('networks', n.id)).mtu, 1400);
    const updated = expect(await update('networks', n.id, { mtu: '1300' }), 200).network;
    assert.equal(updated.mtu, 1300);
    assert.match(refused(await create('networks', { mtu: 'big' }), 400, 'InvalidInput'), /mtu/);
  });

  test("a port's admin state is kept and shown (down: not bound, status DOWN); it reaches the OpenVNet interface", async () => {
    const { network } = await networkWithSubnet({ enable_dhcp: false });
    const port = await make('ports', { network_id: network.id, admin_state_up: false });
    assert.equal(port.admin_state_up, false);
    assert.equal(port.status, 'DOWN');
    assert.equal((await ok(s, 'GET', `/api/1.0/interfaces/${port.id}`)).admin_state_up, false);
    const up = expect(await update('ports', port.id, { admin_state_up: true }), 200).port;
    assert.equal(up.admin_state_up, true);
    assert.equal((await ok(s, 'GET', `/api/1.0/interfaces/${port.id}`)).admin_state_up, true);
    assert.equal((await make('ports', { network_id: network.id })).admin_state_up, true, 'up by default');
  });

  test('admin_state_up false is refused (vnet cannot take an object down), true is accepted', async () => {
    assert.match(refused(await create('networks', { admin_state_up: false }), 400, 'InvalidInput'), /admin_state_up/);
    assert.equal((await make('networks', { admin_state_up: true })).admin_state_up, true);
    assert.match(
      refused(
        await update('networks', (await make('networks', {})).id, { admin_state_up: false }),
        400,
        'InvalidInput',
      ),
      /admin_state_up/,
    );
  });

  test('a provider vlan network needs a segmentation id; with one it is a VLAN', async () => {
    const msg = refused(await create('networks', { 'provider:network_type': 'vlan' }), 400, 'InvalidInput');
    assert.match(msg, /provider:segmentation_id/);
    refused(
      await create('networks', { 'provider:network_type': 'vlan', 'provider:segmentation_id': 5000 }),
      400,
      'InvalidInput',
    );
    const n = await make('networks', { 'provider:network_type': 'vlan', 'provider:segmentation_id': '42' });
    assert.equal(n['provider:network_type'], 'vlan');
    assert.equal(n['provider:segmentation_id'], 42);
    const flat = await make('networks', { 'provider:network_type': 'flat' });
    assert.equal(flat['provider:network_type'], 'flat');
    const overlay = await make('networks', {});
    assert.equal(overlay['provider:network_type'], 'vxlan');
    assert.equal(typeof overlay['provider:segmentation_id'], 'number');
  });

  test('a member may not set router:external or shared (403), on create or update', async () => {
    refused(await create('networks', { 'router:external': true }, p1), 403, 'PolicyNotAuthorized');
    refused(await create('networks', { shared: true }, p1), 403, 'PolicyNotAuthorized');
    const mine = await make('networks', { name: 'p1-own' }, p1);
    refused(await update('networks', mine.id, { 'router:external': true }, p1), 403, 'PolicyNotAuthorized');
    assert.equal((await show('networks', mine.id))['router:external'], false);
  });

  test('a PUT of a read-only attribute is a 400 naming it; name and description change', async () => {
    const n = await make('networks', { name: 'before' });
    assert.match(refused(await update('networks', n.id, { status: 'DOWN' }), 400, 'HTTPBadRequest'), /status/);
    const u = expect(await update('networks', n.id, { name: 'after', description: 'd' }), 200).network;
    assert.equal(u.name, 'after');
    assert.equal(u.description, 'd');
  });
});

describe('subnets', () => {
  test('a subnet gives its network its address, a .1 gateway and pools without it', async () => {
    const network = await make('networks', { name: 'addressed' });
    const subnet = await make('subnets', { network_id: network.id, ip_version: 4, cidr: '10.50.0.0/24' });
    assert.equal(subnet.network_id, network.id);
    assert.equal(subnet.cidr, '10.50.0.0/24');
    assert.equal(subnet.ip_version, 4);
    assert.equal(subnet.gateway_ip, '10.50.0.1');
    assert.deepEqual(subnet.allocation_pools, [{ start: '10.50.0.2', end: '10.50.0.254' }]);
    assert.equal(subnet.enable_dhcp, true);
    assert.deepEqual(subnet.host_routes, []);
    assert.deepEqual(subnet.dns_nameservers, []);
    assert.equal(subnet.project_id, 'admin');
    assert.deepEqual((await show('networks', network.id)).subnets, [subnet.id]);
    const vnet = await ok(s, 'GET', `/api/1.0/networks/${network.id}`);
    assert.equal(vnet.ipv4_network, '10.50.0.0');
    assert.equal(vnet.ipv4_prefix, 24);

    // A gateway in the middle splits the pools around it; null means none (the whole range).
    const mid = await networkWithSubnet({ gateway_ip: null, enable_dhcp: false });
    assert.equal(mid.subnet.gateway_ip, null);
    assert.equal(mid.subnet.allocation_pools.length, 1);
    assert.match(mid.subnet.allocation_pools[0].start, /\.1$/);
    const other = await make('networks', {});
    const split = await make('subnets', {
      network_id: other.id,
      ip_version: 4,
      cidr: '10.51.0.0/24',
      gateway_ip: '10.51.0.100',
      enable_dhcp: false,
    });
    assert.deepEqual(split.allocation_pools, [
      { start: '10.51.0.1', end: '10.51.0.99' },
      { start: '10.51.0.101', end: '10.51.0.254' },
    ]);
  });

  test('allocation_pools must be ranges of host addresses of the subnet, apart from each other and the gateway', async () => {
    const attempt = async (extra: Record<string, unknown>) => {
      const network = await make('networks', {});
      const r = await create('subnets', {
        network_id: network.id,
        ip_version: 4,
        cidr: '10.60.0.0/24',
        enable_dhcp: false,
        ...extra,
      });
      return { network, r };
    };
    const pools = (...p: [string, string][]) => ({ allocation_pools: p.map(([start, end]) => ({ start, end })) });
    for (const bad of [
      pools(['10.9.0.1', '10.9.0.20']), // outside the CIDR
      pools(['10.60.0.30', '10.60.0.20']), // ends before it starts
      pools(['10.60.0.0', '10.60.0.20']), // the network address
      pools(['10.60.0.200', '10.60.0.255']), // the broadcast address
    ]) {
      const { network, r } = await attempt(bad);
      assert.match(refused(r, 400, 'InvalidInput'), /allocation_pools/, JSON.stringify(bad));
      assert.deepEqual((await show('networks', network.id)).subnets, [], 'no subnet left behind');
    }
    // Overlapping each other, or holding the gateway (the default .1 or a given one): 409, as Neutron.
    refused((await attempt(pools(['10.60.0.2', '10.60.0.20'], ['10.60.0.10', '10.60.0.30']))).r, 409, 'Conflict');
    refused((await attempt(pools(['10.60.0.1', '10.60.0.20']))).r, 409, 'Conflict');
    refused((await attempt({ gateway_ip: '10.60.0.50', ...pools(['10.60.0.40', '10.60.0.60']) })).r, 409, 'Conflict');

    const { r } = await attempt(pools(['10.60.0.10', '10.60.0.11'], ['10.60.0.20', '10.60.0.20']));
    const subnet = expect(r, 201).subnet;
    assert.equal(subnet.gateway_ip, '10.60.0.1');
    // Ports take addresses of the pools only, never the gateway.
    const got = [];
    for (let i = 0; i < 3; i++)
      got.push((await make('ports', { network_id: subnet.network_id })).fixed_ips[0].ip_address);
    assert.deepEqual(got, ['10.60.0.10', '10.60.0.11', '10.60.0.20']);
    refused(await create('ports', { network_id: subnet.network_id }), 409, 'IpAddressGenerationFailure');
    // A gateway moved into a pool is refused; outside them it is fine.
    refused(await update('subnets', subnet.id, { gateway_ip: '10.60.0.11' }), 409, 'Conflict');
    assert.equal((await show('subnets', subnet.id)).gateway_ip, '10.60.0.1');
    assert.equal(
      expect(await update('subnets', subnet.id, { gateway_ip: '10.60.0.254' }), 200).subnet.gateway_ip,
      '10.60.0.254',
    );
  });

  test('host_routes: stored on the network, read back as given, replaced by a PUT, refused naming the entry', async () => {
    const routes = [
      { destination: '10.9.0.0/16', nexthop: '10.70.0.254' },
      { destination: '192.0.2.7/32', nexthop: '10.70.0.253' },
    ];
    const network = await make('networks', {});
    const subnet = await make('subnets', {
      network_id: network.id,
      ip_version: 4,
      cidr: '10.70.0.0/24',
      enable_dhcp: false,
      host_routes: routes,
    });
    assert.deepEqual(subnet.host_routes, routes);
    assert.deepEqual((await show('subnets', subnet.id)).host_routes, routes);
    // One model: the OpenVNet API shows them on the network the subnet addresses.
    assert.deepEqual((await ok(s, 'GET', `/api/1.0/networks/${network.id}`)).host_routes, routes);
    // A PUT replaces the list; other attributes leave it alone; [] clears it.
    const next = [{ destination: '0.0.0.0/0', nexthop: '10.70.0.9' }];
    assert.deepEqual(expect(await update('subnets', subnet.id, { host_routes: next }), 200).subnet.host_routes, next);
    assert.deepEqual(expect(await update('subnets', subnet.id, { name: 'renamed' }), 200).subnet.host_routes, next);
    assert.deepEqual(expect(await update('subnets', subnet.id, { host_routes: [] }), 200).subnet.host_routes, []);

    const bad: [unknown, RegExp][] = [
      ['10.9.0.0/16', /host_routes/], // not a list
      [[{ destination: '10.9.0.0/33', nexthop: '10.70.0.254' }], /host_routes\[0\]\.destination.*10\.9\.0\.0\/33/],
      [[{ destination: '10.9.0.1/16', nexthop: '10.70.0.254' }], /host_routes\[0\]\.destination.*host bits/],
      [
        [{ destination: '10.9.0.0/16', nexthop: '10.71.0.1' }],
        /host_routes\[0\]\.nexthop.*10\.71\.0\.1.*10\.70\.0\.0\/24/,
      ],
      [[{ destination: '10.9.0.0/16', nexthop: '10.70.0.255' }], /host_routes\[0\]\.nexthop/], // broadcast
      [[{ destination: '10.9.0.0/16' }], /host_routes\[0\]\.nexthop.*missing/],
      [[{ destination: '10.9.0.0/16', nexthop: '10.70.0.2', metric: 1 }], /host_routes\[0\].*metric/],
      [[routes[0], { ...routes[0], nexthop: '10.70.0.3' }], /host_routes\[1\].*repeats host_routes\[0\]/],
      [Array.from({ length: 21 }, (_, i) => ({ destination: `10.9.${i}.0/24`, nexthop: '10.70.0.2' })), /at most 20/],
    ];
    for (const [host_routes, why] of bad) {
      assert.match(
        refused(await update('subnets', subnet.id, { host_routes }), 400, 'InvalidInput'),
        why,
        JSON.stringify(host_routes),
      );
      // Refused on create too, and no subnet is left behind.
      const other = await make('networks', {});
      const r = await create('subnets', {
        network_id: other.id,
        ip_version: 4,
        cidr: '10.70.0.0/24',
        enable_dhcp: false,
        host_routes,
      });
      assert.match(refused(r, 400, 'InvalidInput'), why);
      assert.deepEqual((await show('networks', other.id)).subnets, [], 'no subnet left behind');
    }
    assert.deepEqual((await show('subnets', subnet.id)).host_routes, []);
    // The subnet's delete takes its routes with the address their next hops were in.
    expect(await update('subnets', subnet.id, { host_routes: routes }), 200);
    expect(await api('DELETE', `/v2.0/subnets/${subnet.id}`), 204);
    assert.deepEqual((await ok(s, 'GET', `/api/1.0/networks/${network.id}`)).host_routes, []);
  });

  test('ip_version 6, a missing cidr and an unknown network are 400/404', async () => {
    const other = await make('networks', {});
    // IPv6 is refused, whether the CIDR gives it away or only ip_version does.
    assert.match(
      refused(await create('subnets', { network_id: other.id, ip_version: 6, cidr: 'fd00::/64' }), 400, 'InvalidInput'),
      /cidr|ip_version/,
    );
    assert.match(
      refused(
        await create('subnets', { network_id: other.id, ip_version: 6, cidr: '10.52.0.0/24' }),
        400,
        'InvalidInput',
      ),
      /ip_version/,
    );
    refused(
      await create('subnets', { network_id: other.id, ip_version: 5, cidr: '10.52.0.0/24' }),
      400,
      'InvalidInput',
    );
    assert.match(
      refused(await create('subnets', { network_id: other.id, ip_version: 4 }), 400, 'HTTPBadRequest'),
      /cidr/,
    );
    refused(
      await create('subnets', { network_id: 'nw-nothere', ip_version: 4, cidr: '10.53.0.0/24' }),
      404,
      'NetworkNotFound',
    );
    assert.deepEqual((await show('networks', other.id)).subnets, []);
  });

  test('enable_dhcp makes a network:dhcp port, listed by device_owner; turning it off removes it', async () => {
    const { network, subnet } = await networkWithSubnet();
    const dhcp = await list('ports', `?device_owner=network:dhcp&network_id=${network.id}`);
    assert.equal(dhcp.length, 1, JSON.stringify(dhcp));
    assert.equal(dhcp[0].device_owner, 'network:dhcp');
    assert.equal(dhcp[0].fixed_ips.length, 1);
    assert.equal(dhcp[0].fixed_ips[0].subnet_id, subnet.id);
    assert.equal(dhcp[0].fixed_ips[0].ip_address, subnet.allocation_pools[0].start);

    expect(await update('subnets', subnet.id, { enable_dhcp: false }), 200);
    assert.deepEqual(await list('ports', `?device_owner=network:dhcp&network_id=${network.id}`), []);
    const none = await networkWithSubnet({ enable_dhcp: false });
    assert.deepEqual(await list('ports', `?network_id=${none.network.id}`), []);
  });

  test('deleting a subnet while a port holds an address is 409 SubnetInUse; after the port, 204', async () => {
    const { network, subnet } = await networkWithSubnet();
    const port = await make('ports', { network_id: network.id, device_owner: 'compute:nova' });
    refused(await api('DELETE', `/v2.0/subnets/${subnet.id}`), 409, 'SubnetInUse');
    expect(await api('DELETE', `/v2.0/ports/${port.id}`), 204);
    const gone = await api('DELETE', `/v2.0/subnets/${subnet.id}`);
    expect(gone, 204);
    assert.equal(gone.body, undefined);
    refused(await api('GET', `/v2.0/subnets/${subnet.id}`), 404, 'SubnetNotFound');
    assert.deepEqual((await show('networks', network.id)).subnets, []);
    // Its DHCP port went with it.
    assert.deepEqual(await list('ports', `?network_id=${network.id}`), []);
  });

  test('deleting a network with a compute port is 409 NetworkInUse; without, 204 and its subnet and DHCP port go', async () => {
    const { network, subnet } = await networkWithSubnet();
    const port = await make('ports', { network_id: network.id, device_owner: 'compute:nova' });
    const [dhcp] = await list('ports', `?device_owner=network:dhcp&network_id=${network.id}`);
    assert.ok(dhcp);
    const msg = refused(await api('DELETE', `/v2.0/networks/${network.id}`), 409, 'NetworkInUse');
    assert.ok(msg.includes(port.id), msg);
    // A port without an address on the network keeps it too.
    expect(await api('DELETE', `/v2.0/ports/${port.id}`), 204);
    const bare = await make('ports', { network_id: network.id, fixed_ips: [] });
    refused(await api('DELETE', `/v2.0/networks/${network.id}`), 409, 'NetworkInUse');
    expect(await api('DELETE', `/v2.0/ports/${bare.id}`), 204);

    expect(await api('DELETE', `/v2.0/networks/${network.id}`), 204);
    refused(await api('GET', `/v2.0/networks/${network.id}`), 404, 'NetworkNotFound');
    refused(await api('GET', `/v2.0/subnets/${subnet.id}`), 404, 'SubnetNotFound');
    refused(await api('GET', `/v2.0/ports/${dhcp.id}`), 404, 'PortNotFound');
    assert.equal((await list('ports', `?id=${dhcp.id}`)).length, 0);
  });
});

describe('several subnets on one network', () => {
  /** What the agent's DHCP would answer each MAC, from the server's feed snapshot (the agent's own input). */
  async function dhcpFor(mac: string, networkId: string) {
    const snap = (await s.app.inject({ method: 'GET', url: '/api/1.0/feed/snapshot' })).json() as {
      resources: DhcpResources;
    };
    return new DhcpModel(snap.resources).context(networkId, mac, { encapsulation: 'gre' });
  }

  test('a bulk create of two subnets on one network is checked as two creates: DNS servers on the second are refused, nothing made', async () => {
    const network = await make('networks', { name: 'bulk-subnets' });
    const r = await api('POST', '/v2.0/subnets', {
      subnets: [
        { network_id: network.id, ip_version: 4, cidr: '10.61.0.0/24' },
        { network_id: network.id, ip_version: 4, cidr: '10.62.0.0/24', dns_nameservers: ['10.62.0.53'] },
      ],
    });
    assert.match(refused(r, 400, 'InvalidInput'), /dns_nameservers/);
    assert.deepEqual((await show('networks', network.id)).subnets, []);
  });

  test('a second subnet shares the network: ports take addresses from either, each listed with its subnet', async () => {
    const network = await make('networks', { name: 'two-subnets' });
    const a = await make('subnets', {
      network_id: network.id,
      ip_version: 4,
      cidr: '10.57.0.0/24',
      dns_nameservers: ['10.57.0.53'],
    });
    const b = await make('subnets', { network_id: network.id, ip_version: 4, cidr: '10.58.0.0/24' });
    assert.equal(b.gateway_ip, '10.58.0.1');
    assert.deepEqual(b.dns_nameservers, []);
    assert.deepEqual((await show('networks', network.id)).subnets.sort(), [a.id, b.id].sort());
    // The OpenVNet view: the network keeps its first subnet's address.
    const nw = await ok(s, 'GET', `/api/1.0/networks/${network.id}`);
    assert.equal(nw.ipv4_network, '10.57.0.0');
    // Overlapping prefixes on one network, DNS servers or host routes on a further subnet: 400 naming them.
    assert.match(
      refused(
        await create('subnets', { network_id: network.id, ip_version: 4, cidr: '10.57.0.128/25' }),
        400,
        'InvalidInput',
      ),
      /cidr.*overlaps/,
    );
    assert.match(
      refused(
        await create('subnets', {
          network_id: network.id,
          ip_version: 4,
          cidr: '10.59.0.0/24',
          dns_nameservers: ['1.1.1.1'],
        }),
        400,
        'InvalidInput',
      ),
      /dns_nameservers/,
    );
    refused(
      await update('subnets', b.id, { host_routes: [{ destination: '10.9.0.0/16', nexthop: '10.58.0.9' }] }),
      400,
      'InvalidInput',
    );

    // By subnet, by address, one in each; an address outside the named subnet is refused.
    const inB = await make('ports', { network_id: network.id, fixed_ips: [{ subnet_id: b.id }] });
    assert.equal(inB.fixed_ips[0].subnet_id, b.id);
    assert.match(inB.fixed_ips[0].ip_address, /^10\.58\.0\./);
    const both = await make('ports', {
      network_id: network.id,
      fixed_ips: [{ subnet_id: a.id }, { ip_address: '10.58.0.77' }],
    });
    assert.deepEqual(
      both.fixed_ips.map((f: { subnet_id: string }) => f.subnet_id),
      [a.id, b.id],
    );
    assert.match(
      refused(
        await create('ports', { network_id: network.id, fixed_ips: [{ subnet_id: a.id, ip_address: '10.58.0.78' }] }),
        400,
        'InvalidInput',
      ),
      /fixed_ips\[0\]\.ip_address.*not in subnet/,
    );
    refused(
      await create('ports', { network_id: network.id, fixed_ips: [{ ip_address: '10.60.9.9' }] }),
      400,
      'InvalidInput',
    );
    // A PUT keeps what it can: the b address stays, an a address is added.
    const moved = expect(
      await update('ports', inB.id, { fixed_ips: [{ subnet_id: b.id }, { subnet_id: a.id }] }),
      200,
    ).port;
    assert.equal(moved.fixed_ips[0].ip_address, inB.fixed_ips[0].ip_address);
    assert.equal(moved.fixed_ips[1].subnet_id, a.id);

    // DHCP answers each port with its own subnet's mask, router and DNS, and routes the other subnet on the link.
    const dA = (await dhcpFor(both.mac_address, network.id))!;
    assert.equal(dA.client?.ipv4Address, both.fixed_ips[0].ip_address);
    assert.equal(dA.network.ipv4Network, '10.57.0.0');
    assert.equal(dA.router?.ipv4Address, '10.57.0.1', "the subnet's gateway_ip, with no router attached");
    assert.deepEqual(dA.network.dnsServers, ['10.57.0.53']);
    assert.deepEqual(dA.routes, [{ ipv4Network: '10.58.0.0', ipv4Prefix: 24, router: '0.0.0.0' }]);
    const onlyB = await make('ports', { network_id: network.id, fixed_ips: [{ subnet_id: b.id }] });
    const dB = (await dhcpFor(onlyB.mac_address, network.id))!;
    assert.equal(dB.client?.ipv4Address, onlyB.fixed_ips[0].ip_address);
    assert.equal(dB.network.ipv4Network, '10.58.0.0');
    assert.equal(dB.router?.ipv4Address, '10.58.0.1');
    assert.deepEqual(dB.network.dnsServers, []);
    assert.match(dB.server.ipv4Address, /^10\.58\.0\./, "b's own DHCP port answers");
    assert.deepEqual(dB.routes, [{ ipv4Network: '10.57.0.0', ipv4Prefix: 24, router: '0.0.0.0' }]);

    // A router takes an interface on each subnet: two ports, two routes (one per prefix).
    const router = await make('routers', { name: 'two-subnets' });
    for (const sn of [a, b])
      expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: sn.id }), 200);
    const routes = (await ok(s, 'GET', '/api/1.0/routes', { route_link_uuid: router.id })).items;
    assert.deepEqual(routes.map((r: { ipv4_network: string }) => r.ipv4_network).sort(), ['10.57.0.0', '10.58.0.0']);
    refused(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: b.id }),
      400,
      'BadRequest',
    );
    // A router port holds one address: a second is Neutron's 400.
    const rport = (await list('ports', `?device_id=${router.id}`))[0];
    assert.match(
      refused(
        await update('ports', rport.id, { fixed_ips: [...rport.fixed_ips, { subnet_id: a.id }] }),
        400,
        'BadRequest',
      ),
      /Cannot have multiple IPv4 subnets on router port/,
    );
    const dB2 = (await dhcpFor(onlyB.mac_address, network.id))!;
    assert.equal(dB2.router?.ipv4Address, '10.58.0.1');
    expect(await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: b.id }), 200);
    assert.equal((await list('ports', `?device_id=${router.id}`)).length, 1);
    expect(await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: a.id }), 200);

    // A subnet whose addresses ports hold stays (409); once free it goes, and the network keeps the other.
    refused(await api('DELETE', `/v2.0/subnets/${b.id}`), 409, 'SubnetInUse');
    for (const port of [inB, both, onlyB]) expect(await api('DELETE', `/v2.0/ports/${port.id}`), 204);
    expect(await api('DELETE', `/v2.0/subnets/${a.id}`), 204);
    const left = await ok(s, 'GET', `/api/1.0/networks/${network.id}`);
    assert.equal(left.ipv4_network, '10.58.0.0', 'the remaining subnet becomes the network address');
    assert.equal(left.dns_servers, null);
    assert.deepEqual((await show('networks', network.id)).subnets, [b.id]);
    expect(await api('DELETE', `/v2.0/networks/${network.id}`), 204);
  });

  test('a physical (external) network keeps one subnet: a second is a 400 naming network_uuid', async () => {
    const { network } = await externalNetwork();
    assert.match(
      refused(
        await create('subnets', { network_id: network.id, ip_version: 4, cidr: '10.61.0.0/24' }),
        400,
        'InvalidInput',
      ),
      /network_uuid.*only virtual networks/,
    );
  });

  test("a subnet's gateway_ip is DHCP's router before any router is attached; no gateway_ip, no router", async () => {
    const { network } = await networkWithSubnet();
    const port = await make('ports', { network_id: network.id });
    const d = (await dhcpFor(port.mac_address, network.id))!;
    assert.equal(
      d.router?.ipv4Address,
      (await show('subnets', (await show('networks', network.id)).subnets[0])).gateway_ip,
    );
    const none = await networkWithSubnet({ gateway_ip: null });
    const p2 = await make('ports', { network_id: none.network.id });
    assert.equal((await dhcpFor(p2.mac_address, none.network.id))!.router, null);
  });
});

describe('ports', () => {
  test('a port without fixed_ips gets the first free address of the pools; given ones are checked', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const a = await make('ports', { network_id: network.id, name: 'a' });
    assert.equal(a.network_id, network.id);
    assert.deepEqual(a.fixed_ips, [{ subnet_id: subnet.id, ip_address: subnet.allocation_pools[0].start }]);
    assert.match(a.mac_address, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(a.admin_state_up, true);
    assert.equal(a.device_owner, '');
    assert.equal(a.device_id, '');
    assert.equal(a.port_security_enabled, true);
    assert.equal(a['binding:host_id'], '');
    const b = await make('ports', { network_id: network.id });
    assert.notEqual(b.fixed_ips[0].ip_address, a.fixed_ips[0].ip_address);

    const prefix = subnet.cidr.replace(/0\/24$/, '');
    const given = await make('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}77` }] });
    assert.equal(given.fixed_ips[0].ip_address, `${prefix}77`);
    assert.equal(given.fixed_ips[0].subnet_id, subnet.id);
    const taken = refused(
      await create('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}77` }] }),
      409,
      'IpAddressInUse',
    );
    assert.match(taken, /77/);
    // By subnet only: any free address of it.
    const bySubnet = await make('ports', { network_id: network.id, fixed_ips: [{ subnet_id: subnet.id }] });
    assert.equal(bySubnet.fixed_ips[0].subnet_id, subnet.id);
    // Outside the subnet: 400.
    refused(
      await create('ports', { network_id: network.id, fixed_ips: [{ ip_address: '172.16.0.5' }] }),
      400,
      'InvalidInput',
    );

    const none = await make('ports', { network_id: network.id, fixed_ips: [] });
    assert.deepEqual(none.fixed_ips, []);
    assert.equal(none.network_id, network.id);
    assert.deepEqual((await show('ports', none.id)).fixed_ips, []);
  });

  test('a PUT of fixed_ips replaces the address; [] leaves the port on its network without one', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const port = await make('ports', { network_id: network.id, device_owner: 'compute:nova' });
    const prefix = subnet.cidr.replace(/0\/24$/, '');
    const moved = expect(await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}60` }] }), 200).port;
    assert.deepEqual(moved.fixed_ips, [{ subnet_id: subnet.id, ip_address: `${prefix}60` }]);
    const other = await make('ports', { network_id: network.id });
    refused(await update('ports', other.id, { fixed_ips: [{ ip_address: `${prefix}60` }] }), 409, 'IpAddressInUse');

    const bare = expect(await update('ports', port.id, { fixed_ips: [] }), 200).port;
    assert.deepEqual(bare.fixed_ips, []);
    assert.equal(bare.network_id, network.id);
    assert.equal((await show('ports', port.id)).network_id, network.id);
    assert.ok((await list('ports', `?network_id=${network.id}`)).some((p) => p.id === port.id));
    // Still a port of the network: it keeps the network, and takes an address again.
    refused(await api('DELETE', `/v2.0/networks/${network.id}`), 409, 'NetworkInUse');
    const back = expect(await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}61` }] }), 200).port;
    assert.deepEqual(back.fixed_ips, [{ subnet_id: subnet.id, ip_address: `${prefix}61` }]);
    assert.equal(back.network_id, network.id);
  });

  test('several fixed IPs: all leased on the one interface, the first first; a PUT adds and removes by the whole list', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const prefix = subnet.cidr.replace(/0\/24$/, '');
    const port = await make('ports', {
      network_id: network.id,
      fixed_ips: [{ ip_address: `${prefix}40` }, { subnet_id: subnet.id }, { ip_address: `${prefix}41` }],
    });
    const ips = port.fixed_ips.map((f: { ip_address: string }) => f.ip_address);
    assert.equal(ips.length, 3);
    assert.equal(ips[0], `${prefix}40`);
    assert.ok(ips.includes(`${prefix}41`));
    const free = ips.find((ip: string) => ![`${prefix}40`, `${prefix}41`].includes(ip));
    assert.equal(free, subnet.allocation_pools[0].start, 'a subnet-only entry takes a free address');
    for (const f of port.fixed_ips) assert.equal(f.subnet_id, subnet.id);
    // The same object through the OpenVNet API: one MAC lease holding three IP leases; the first is ipv4_address.
    const iface = await ok(s, 'GET', `/api/1.0/interfaces/${port.id}`);
    assert.equal(iface.ipv4_address, `${prefix}40`);
    assert.deepEqual(
      iface.mac_leases[0].ip_leases.map((l: { ipv4_address: string }) => l.ipv4_address).sort(),
      [...ips].sort(),
    );
    // Another port cannot take any of them; the filter finds the port by its second address.
    refused(
      await create('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}41` }] }),
      409,
      'IpAddressInUse',
    );
    assert.deepEqual(
      (await list('ports', `?fixed_ips=ip_address%3D${prefix}41`)).map((p) => p.id),
      [port.id],
    );

    // PUT is the whole list: a subnet-only entry keeps an address the port holds rather than taking a new one.
    const one = expect(await update('ports', port.id, { fixed_ips: [{ subnet_id: subnet.id }] }), 200).port;
    assert.equal(one.fixed_ips.length, 1);
    assert.ok(ips.includes(one.fixed_ips[0].ip_address), one.fixed_ips[0].ip_address);
    const kept = one.fixed_ips[0].ip_address;
    const two = expect(
      await update('ports', port.id, { fixed_ips: [{ ip_address: kept }, { ip_address: `${prefix}42` }] }),
      200,
    ).port;
    assert.deepEqual(
      two.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
      [kept, `${prefix}42`],
    );
    // The released addresses are free again.
    const other = await make('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}41` }] });
    assert.equal(other.fixed_ips[0].ip_address, `${prefix}41`);
    // Dropping the first keeps the second as the port's (first) address; [] leaves none.
    const second = expect(await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}42` }] }), 200).port;
    assert.deepEqual(second.fixed_ips, [{ subnet_id: subnet.id, ip_address: `${prefix}42` }]);
    assert.equal((await ok(s, 'GET', `/api/1.0/interfaces/${port.id}`)).ipv4_address, `${prefix}42`);
    const none = expect(await update('ports', port.id, { fixed_ips: [] }), 200).port;
    assert.deepEqual(none.fixed_ips, []);
    const back = expect(
      await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}43` }, { ip_address: `${prefix}44` }] }),
      200,
    ).port;
    assert.deepEqual(
      back.fixed_ips.map((f: { ip_address: string }) => f.ip_address),
      [`${prefix}43`, `${prefix}44`],
    );
    assert.equal(back.network_id, network.id);
  });

  test('bad fixed_ips lists are 400 naming the entry, and change nothing', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const prefix = subnet.cidr.replace(/0\/24$/, '');
    const port = await make('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}50` }] });
    const twice = refused(
      await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}51` }, { ip_address: `${prefix}51` }] }),
      400,
      'InvalidInput',
    );
    assert.match(twice, /fixed_ips\[1\]\.ip_address/);
    const foreign = refused(
      await create('ports', {
        network_id: network.id,
        fixed_ips: [{ ip_address: `${prefix}52` }, { subnet_id: 'sn-other' }],
      }),
      400,
      'InvalidInput',
    );
    assert.match(foreign, /fixed_ips\[1\]\.subnet_id/);
    const many = Array.from({ length: 6 }, (_, n) => ({ ip_address: `${prefix}${60 + n}` }));
    assert.match(
      refused(await create('ports', { network_id: network.id, fixed_ips: many }), 400, 'InvalidInput'),
      /fixed_ips/,
    );
    // A taken second address: 409, and the port keeps what it had (the request is one write).
    await make('ports', { network_id: network.id, fixed_ips: [{ ip_address: `${prefix}53` }] });
    refused(
      await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}54` }, { ip_address: `${prefix}53` }] }),
      409,
      'IpAddressInUse',
    );
    assert.deepEqual((await show('ports', port.id)).fixed_ips, [{ subnet_id: subnet.id, ip_address: `${prefix}50` }]);
    assert.equal((await list('ports', `?fixed_ips=ip_address%3D${prefix}54`)).length, 0);
  });

  test("security_groups default to the project's default group, which allows egress and ingress from itself", async () => {
    const { network } = await networkWithSubnet({ enable_dhcp: false }, p1);
    const port = await make('ports', { network_id: network.id }, p1);
    assert.equal(port.security_groups.length, 1);
    const group = await show('security-groups', port.security_groups[0], p1);
    assert.equal(group.name, 'default');
    assert.equal(group.project_id, 'p1');
    const rules = group.security_group_rules as any[];
    const egress = rules.filter((r) => r.direction === 'egress');
    assert.equal(egress.length, 1, JSON.stringify(rules));
    assert.equal(egress[0].protocol, null);
    assert.equal(egress[0].remote_ip_prefix, null);
    assert.equal(egress[0].remote_group_id, null);
    const ingress = rules.filter((r) => r.direction === 'ingress');
    assert.equal(ingress.length, 1, JSON.stringify(rules));
    assert.equal(ingress[0].remote_group_id, group.id);
    assert.equal(ingress[0].protocol, null);
    for (const r of rules) {
      assert.equal(r.ethertype, 'IPv4');
      assert.equal(r.security_group_id, group.id);
      assert.equal(r.belongs_to_default_sg, true);
    }
    // One default group per project, whatever asked for it first.
    const defaults = (await list('security-groups', '?name=default', p1)).filter((g) => g.project_id === 'p1');
    assert.equal(defaults.length, 1);
    refused(await create('security-groups', { name: 'default' }, p1), 409, 'SecurityGroupDefaultAlreadyExists');
  });

  test('port_security_enabled false takes no groups; with groups it is a 400', async () => {
    const { network } = await networkWithSubnet({ enable_dhcp: false });
    const open = await make('ports', { network_id: network.id, port_security_enabled: false });
    assert.equal(open.port_security_enabled, false);
    assert.deepEqual(open.security_groups, []);
    const sg = await make('security-groups', { name: 'web' });
    refused(
      await create('ports', { network_id: network.id, port_security_enabled: false, security_groups: [sg.id] }),
      400,
      'PortSecurityAndIPRequiredForSecurityGroups',
    );
    const withSg = await make('ports', { network_id: network.id, security_groups: [sg.id] });
    assert.deepEqual(withSg.security_groups, [sg.id]);
    refused(
      await update('ports', withSg.id, { port_security_enabled: false, security_groups: [sg.id] }),
      400,
      'PortSecurityAndIPRequiredForSecurityGroups',
    );
    refused(
      await create('ports', { network_id: network.id, security_groups: ['sg-nothere'] }),
      404,
      'SecurityGroupNotFound',
    );
  });

  test('binding:host_id must name a known host (a datapath node_id)', async () => {
    const { network } = await networkWithSubnet({ enable_dhcp: false });
    const msg = refused(
      await create('ports', { network_id: network.id, 'binding:host_id': 'no-such-host' }),
      400,
      'InvalidInput',
    );
    assert.match(msg, /binding:host_id/);
    await ok(s, 'POST', '/api/1.0/datapaths', { node_id: 'compute-1', dpid: '0x0000aaaaaaaaaaaa', display_name: 'c1' });
    const bound = await make('ports', { network_id: network.id, 'binding:host_id': 'compute-1' });
    assert.equal(bound['binding:host_id'], 'compute-1');
    // Members may not bind (admin-only by Neutron's policy).
    refused(
      await create('ports', { network_id: network.id, 'binding:host_id': 'compute-1' }, p1),
      403,
      'PolicyNotAuthorized',
    );
  });

  test('list filters: network_id, device_owner, repeated keys are OR, fields= keeps only those', async () => {
    const one = await networkWithSubnet({ enable_dhcp: false });
    const two = await networkWithSubnet({ enable_dhcp: false });
    const a = await make('ports', { network_id: one.network.id, name: 'fa', device_owner: 'compute:nova' });
    const b = await make('ports', { network_id: two.network.id, name: 'fb', device_owner: 'compute:other' });
    const c = await make('ports', { network_id: two.network.id, name: 'fc' });

    const ids = (ports: any[]) => ports.map((p) => p.id).sort();
    assert.deepEqual(ids(await list('ports', `?network_id=${one.network.id}`)), [a.id]);
    assert.deepEqual(ids(await list('ports', `?network_id=${two.network.id}`)), [b.id, c.id].sort());
    assert.deepEqual(
      ids(await list('ports', `?network_id=${one.network.id}&network_id=${two.network.id}`)),
      [a.id, b.id, c.id].sort(),
    );
    assert.deepEqual(ids(await list('ports', `?network_id=${two.network.id}&device_owner=compute:other`)), [b.id]);
    assert.deepEqual(
      ids(await list('ports', '?device_owner=compute:nova&device_owner=compute:other&name=fa&name=fb')),
      [a.id, b.id].sort(),
    );
    assert.deepEqual(await list('ports', '?name=nothing-by-this-name'), []);

    const picked = await list('ports', `?network_id=${one.network.id}&fields=id&fields=name`);
    assert.deepEqual(picked, [{ id: a.id, name: 'fa' }]);
    const single = await list('ports', `?network_id=${one.network.id}&fields=id`);
    assert.deepEqual(single, [{ id: a.id }]);
    const shown = expect(await api('GET', `/v2.0/ports/${a.id}?fields=id&fields=mac_address`), 200).port;
    assert.deepEqual(Object.keys(shown).sort(), ['id', 'mac_address']);
    // Booleans as the CLI sends them.
    const ext = await list('networks', '?router:external=True');
    assert.ok(ext.every((n) => n['router:external'] === true));
    assert.ok((await list('networks', '?router:external=False')).some((n) => n.id === one.network.id));
  });
});

describe('security groups and rules', () => {
  test('a new group has one egress rule; rules are listed by security_group_id', async () => {
    const g = await make('security-groups', { name: 'web', description: 'web servers' });
    assert.equal(g.name, 'web');
    assert.equal(g.description, 'web servers');
    assert.equal(g.stateful, true);
    const rules = g.security_group_rules as any[];
    assert.equal(rules.length, 1, JSON.stringify(rules));
    assert.equal(rules[0].direction, 'egress');
    assert.equal(rules[0].protocol, null);
    assert.equal(rules[0].belongs_to_default_sg, false);

    const other = await make('security-groups', { name: 'db' });
    const listed = await list('security-group-rules', `?security_group_id=${g.id}`);
    assert.deepEqual(
      listed.map((r) => r.id),
      [rules[0].id],
    );
    const both = await list('security-group-rules', `?security_group_id=${g.id}&security_group_id=${other.id}`);
    assert.equal(both.length, 2);
    assert.deepEqual(await show('security-group-rules', rules[0].id), rules[0]);
  });

  test('protocol "6" is tcp, read back as given; a duplicate rule is 409 SecurityGroupRuleExists naming the existing rule', async () => {
    const g = await make('security-groups', { name: 'ssh' });
    const rule = {
      security_group_id: g.id,
      direction: 'ingress',
      protocol: '6',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    };
    const made = await make('security-group-rules', rule);
    assert.equal(made.protocol, '6', 'kept as given, as Neutron does (clients compare int(protocol))');
    assert.equal(made.port_range_min, 22);
    assert.equal(made.port_range_max, 22);
    assert.equal(made.ethertype, 'IPv4');
    assert.equal(made.direction, 'ingress');
    assert.equal(made.security_group_id, g.id);
    const msg = refused(await create('security-group-rules', rule), 409, 'SecurityGroupRuleExists');
    assert.ok(msg.includes(made.id), msg);
    // The same rule by name is the same rule.
    const byName = refused(
      await create('security-group-rules', { ...rule, protocol: 'tcp' }),
      409,
      'SecurityGroupRuleExists',
    );
    assert.ok(byName.includes(made.id), byName);
    assert.equal((await show('security-groups', g.id)).security_group_rules.length, 2);
  });

  test('a protocol as a JSON number; ICMP type and code as port_range_min/max; other protocol numbers', async () => {
    const g = await make('security-groups', { name: 'numbers' });
    const base = { security_group_id: g.id, direction: 'ingress' };
    const udp = await make('security-group-rules', { ...base, protocol: 17 });
    assert.equal(udp.protocol, '17');
    refused(await create('security-group-rules', { ...base, protocol: 'udp' }), 409, 'SecurityGroupRuleExists');
    for (const [type, code] of [
      [3, 2],
      [3, 0],
      [8, 0],
      [0, 0],
      [11, null],
    ]) {
      const r = await make('security-group-rules', {
        ...base,
        protocol: 'icmp',
        port_range_min: type,
        port_range_max: code,
      });
      assert.deepEqual([r.protocol, r.port_range_min, r.port_range_max], ['icmp', type, code]);
    }
    const gre = await make('security-group-rules', { ...base, protocol: 47 });
    assert.equal(gre.protocol, '47');
    refused(await create('security-group-rules', { ...base, protocol: 256 }), 400, 'SecurityGroupRuleInvalidProtocol');
    refused(
      await create('security-group-rules', { ...base, protocol: 47, port_range_min: 1, port_range_max: 2 }),
      400,
      'InvalidInput',
    );
    // Through the OpenVNet API the same rules read back the same way.
    const rules = (await ok(s, 'GET', `/api/1.0/security_groups/${g.id}`)).rules as { protocol: string }[];
    assert.deepEqual(rules.map((r) => r.protocol).sort(), ['17', '47', 'any', 'icmp', 'icmp', 'icmp', 'icmp', 'icmp']);
  });

  test('rules vnet cannot honour are 400: IPv6, ports without a protocol, prefix with a remote group', async () => {
    const g = await make('security-groups', { name: 'checked' });
    const base = { security_group_id: g.id, direction: 'ingress' };
    assert.match(
      refused(await create('security-group-rules', { ...base, ethertype: 'IPv6' }), 400, 'InvalidInput'),
      /ethertype/,
    );
    refused(
      await create('security-group-rules', { ...base, port_range_min: 80, port_range_max: 80 }),
      400,
      'InvalidInput',
    );
    refused(
      await create('security-group-rules', { ...base, remote_ip_prefix: '10.0.0.0/8', remote_group_id: g.id }),
      400,
      'InvalidInput',
    );
    refused(await create('security-group-rules', { ...base, direction: 'sideways' }), 400, 'InvalidInput');
    refused(
      await create('security-group-rules', { security_group_id: 'sg-nothere', direction: 'ingress' }),
      404,
      'SecurityGroupNotFound',
    );
    // Rules have no PUT.
    const [rule] = (await show('security-groups', g.id)).security_group_rules;
    refused(await update('security-group-rules', rule.id, { description: 'x' }), 405, 'HTTPMethodNotAllowed');
    assert.equal((await show('security-groups', g.id)).security_group_rules.length, 1);
  });

  test('a group in use by a port cannot be deleted (409); a rule and an unused group can', async () => {
    const { network } = await networkWithSubnet({ enable_dhcp: false });
    const g = await make('security-groups', { name: 'busy' });
    const port = await make('ports', { network_id: network.id, security_groups: [g.id] });
    const msg = refused(await api('DELETE', `/v2.0/security-groups/${g.id}`), 409, 'SecurityGroupInUse');
    assert.ok(msg.includes(port.id), msg);
    const rule = await make('security-group-rules', {
      security_group_id: g.id,
      direction: 'ingress',
      protocol: 'icmp',
    });
    expect(await api('DELETE', `/v2.0/security-group-rules/${rule.id}`), 204);
    refused(await api('GET', `/v2.0/security-group-rules/${rule.id}`), 404, 'SecurityGroupRuleNotFound');
    expect(await update('ports', port.id, { security_groups: [] }), 200);
    expect(await api('DELETE', `/v2.0/security-groups/${g.id}`), 204);
    refused(await api('GET', `/v2.0/security-groups/${g.id}`), 404, 'SecurityGroupNotFound');
  });
});

describe('routers', () => {
  test('add_router_interface by subnet gives the interface info; twice is 400; RouterInUse until removed', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { name: 'r1' });
    assert.equal(router.external_gateway_info, null);
    assert.equal(router.admin_state_up, true);
    assert.equal(router.status, 'ACTIVE');

    const info = expect(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }),
      200,
    );
    assert.equal(info.id, router.id);
    assert.equal(info.subnet_id, subnet.id);
    assert.deepEqual(info.subnet_ids, [subnet.id]);
    assert.equal(info.network_id, network.id);
    assert.equal(info.project_id, 'admin');
    assert.equal(info.tenant_id, 'admin');
    const port = await show('ports', info.port_id);
    assert.equal(port.device_owner, 'network:router_interface');
    assert.equal(port.device_id, router.id);
    assert.deepEqual(port.fixed_ips, [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }]);
    assert.deepEqual(
      (await list('ports', `?device_id=${router.id}`)).map((p) => p.id),
      [info.port_id],
    );

    refused(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }),
      400,
      'BadRequest',
    );
    refused(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, {
        subnet_id: subnet.id,
        port_id: info.port_id,
      }),
      400,
      'BadRequest',
    );
    refused(await api('DELETE', `/v2.0/routers/${router.id}`), 409, 'RouterInUse');
    // The network is in use by the router's port too.
    refused(await api('DELETE', `/v2.0/networks/${network.id}`), 409, 'NetworkInUse');

    const removed = expect(
      await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id }),
      200,
    );
    assert.equal(removed.port_id, info.port_id);
    assert.equal(removed.subnet_id, subnet.id);
    refused(await api('GET', `/v2.0/ports/${info.port_id}`), 404, 'PortNotFound');
    refused(
      await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id }),
      404,
      'RouterInterfaceNotFound',
    );
    expect(await api('DELETE', `/v2.0/routers/${router.id}`), 204);
    refused(await api('GET', `/v2.0/routers/${router.id}`), 404, 'RouterNotFound');
  });

  test("a router's interface and gateway ports are not deleted through the port API (409)", async () => {
    const ext = await externalNetwork();
    const { subnet } = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', {
      name: 'keeps-ports',
      external_gateway_info: { network_id: ext.network.id },
    });
    const info = expect(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }),
      200,
    );
    const [gwPort] = await list('ports', `?device_id=${router.id}&device_owner=network:router_gateway`);
    for (const id of [info.port_id, gwPort.id]) {
      const msg = refused(await api('DELETE', `/v2.0/ports/${id}`), 409, 'L3PortInUse');
      assert.ok(msg.includes(id), msg);
      assert.equal((await show('ports', id)).device_id, router.id);
    }
    assert.equal((await show('routers', router.id)).external_gateway_info.network_id, ext.network.id);
    expect(await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { port_id: info.port_id }), 200);
    expect(await api('DELETE', `/v2.0/routers/${router.id}`), 204);
    refused(await api('GET', `/v2.0/ports/${gwPort.id}`), 404, 'PortNotFound');
  });

  test('add_router_interface by port: a port without an address, or with two, is 400; with one it becomes the interface', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { name: 'by-port' });
    const bare = await make('ports', { network_id: network.id, fixed_ips: [] });
    refused(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { port_id: bare.id }),
      400,
      'BadRequest',
    );
    const two = await make('ports', {
      network_id: network.id,
      fixed_ips: [{ subnet_id: subnet.id }, { subnet_id: subnet.id }],
    });
    assert.match(
      refused(
        await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { port_id: two.id }),
        400,
        'BadRequest',
      ),
      /Cannot have multiple IPv4 subnets on router port/,
    );
    const port = await make('ports', { network_id: network.id, fixed_ips: [{ ip_address: subnet.gateway_ip }] });
    const info = expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { port_id: port.id }), 200);
    assert.equal(info.port_id, port.id);
    assert.equal(info.subnet_id, subnet.id);
    const shown = await show('ports', port.id);
    assert.equal(shown.device_owner, 'network:router_interface');
    assert.equal(shown.device_id, router.id);
    // A port in use already: 409.
    const other = await make('routers', { name: 'other' });
    refused(await api('PUT', `/v2.0/routers/${other.id}/add_router_interface`, { port_id: port.id }), 409, 'PortInUse');
    expect(await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { port_id: port.id }), 200);
    expect(await api('DELETE', `/v2.0/routers/${router.id}`), 204);
  });

  test('external_gateway_info: an external network only; {} clears it; enable_snat false makes no snat', async () => {
    const internal = await networkWithSubnet({ enable_dhcp: false });
    assert.match(
      refused(
        await create('routers', { name: 'bad-gw', external_gateway_info: { network_id: internal.network.id } }),
        400,
        'BadRequest',
      ),
      /external/,
    );
    assert.deepEqual(await list('routers', '?name=bad-gw'), [], 'a refused create leaves no router behind');

    const ext = await externalNetwork();
    const snatOf = async (portId: string) =>
      ((await ok(s, 'GET', '/api/1.0/translations', { interface_uuid: portId })).items as any[]).filter(
        (t) => t.mode === 'snat' && t.interface_uuid === portId,
      );

    const router = await make('routers', { name: 'gw', external_gateway_info: { network_id: ext.network.id } });
    const gw = router.external_gateway_info;
    assert.equal(gw.network_id, ext.network.id);
    assert.equal(gw.enable_snat, true);
    assert.equal(gw.external_fixed_ips.length, 1);
    assert.equal(gw.external_fixed_ips[0].subnet_id, ext.subnet.id);
    const [gwPort] = await list('ports', `?device_id=${router.id}&device_owner=network:router_gateway`);
    assert.ok(gwPort, 'a network:router_gateway port');
    assert.equal(gwPort.fixed_ips[0].ip_address, gw.external_fixed_ips[0].ip_address);
    assert.equal((await snatOf(gwPort.id)).length, 1, 'a snat translation on the gateway port');

    // enable_snat false: the same gateway, no snat translation.
    const noSnat = expect(
      await update('routers', router.id, { external_gateway_info: { network_id: ext.network.id, enable_snat: false } }),
      200,
    ).router;
    assert.equal(noSnat.external_gateway_info.enable_snat, false);
    assert.deepEqual(noSnat.external_gateway_info.external_fixed_ips, gw.external_fixed_ips);
    assert.equal((await snatOf(gwPort.id)).length, 0);
    const fresh = await make('routers', {
      name: 'gw-nosnat',
      external_gateway_info: { network_id: ext.network.id, enable_snat: false },
    });
    assert.equal(fresh.external_gateway_info.enable_snat, false);
    const [freshPort] = await list('ports', `?device_id=${fresh.id}&device_owner=network:router_gateway`);
    assert.equal((await snatOf(freshPort.id)).length, 0);

    // {} clears the gateway and its port.
    const cleared = expect(await update('routers', router.id, { external_gateway_info: {} }), 200).router;
    assert.equal(cleared.external_gateway_info, null);
    assert.equal((await show('routers', router.id)).external_gateway_info, null);
    refused(await api('GET', `/v2.0/ports/${gwPort.id}`), 404, 'PortNotFound');
    // null clears too; a router with only a gateway deletes (its gateway port with it).
    expect(await update('routers', fresh.id, { external_gateway_info: null }), 200);
    assert.equal((await show('routers', fresh.id)).external_gateway_info, null);
    const again = expect(
      await update('routers', fresh.id, { external_gateway_info: { network_id: ext.network.id } }),
      200,
    ).router;
    assert.equal(again.external_gateway_info.enable_snat, true);
    expect(await api('DELETE', `/v2.0/routers/${fresh.id}`), 204);
    assert.deepEqual(await list('ports', `?device_id=${fresh.id}`), []);
  });
});

/** The OpenVNet side's static_address translations of an interface. */
async function staticTranslationsOf(portId: string): Promise<any[]> {
  const all = (await ok(s, 'GET', '/api/1.0/translations', { interface_uuid: portId })).items as any[];
  return all.filter((t) => t.mode === 'static_address' && t.interface_uuid === portId);
}

describe('floating IPs', () => {
  test('a floating IP of a network that is not external is a 400', async () => {
    const internal = await networkWithSubnet({ enable_dhcp: false });
    assert.match(
      refused(await create('floatingips', { floating_network_id: internal.network.id }), 400, 'BadRequest'),
      /external/,
    );
    refused(await create('floatingips', { floating_network_id: 'nw-nothere' }), 404, 'NetworkNotFound');
    assert.match(refused(await create('floatingips', {}), 400, 'HTTPBadRequest'), /floating_network_id/);
  });

  test('association needs a router between the port and the floating network (404 ExternalGatewayForFloatingIPNotFound)', async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const port = await make('ports', { network_id: inside.network.id, device_owner: 'compute:nova' });

    refused(
      await create('floatingips', { floating_network_id: ext.network.id, port_id: port.id }),
      404,
      'ExternalGatewayForFloatingIPNotFound',
    );
    const fip = await make('floatingips', { floating_network_id: ext.network.id });
    assert.equal(fip.port_id, null);
    assert.equal(fip.router_id, null);
    assert.equal(fip.fixed_ip_address, null);
    assert.equal(fip.status, 'DOWN');
    assert.equal(fip.subnet_id, ext.subnet.id);
    assert.ok(fip.floating_ip_address.startsWith(ext.subnet.cidr.replace(/0\/24$/, '')), fip.floating_ip_address);
    const msg = refused(
      await update('floatingips', fip.id, { port_id: port.id }),
      404,
      'ExternalGatewayForFloatingIPNotFound',
    );
    assert.ok(msg.includes(port.id), msg);
    // A router with only a gateway, or only an interface, is not enough.
    const gwOnly = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    refused(await update('floatingips', fip.id, { port_id: port.id }), 404, 'ExternalGatewayForFloatingIPNotFound');
    expect(await api('DELETE', `/v2.0/routers/${gwOnly.id}`), 204);
    assert.equal((await show('floatingips', fip.id)).port_id, null);
  });

  test('associated through a router: router_id and fixed_ip_address, a static_address translation; PUT without port_id disassociates', async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id }), 200);
    const port = await make('ports', { network_id: inside.network.id, device_owner: 'compute:nova' });
    const fixed = port.fixed_ips[0].ip_address;

    const fip = await make('floatingips', { floating_network_id: ext.network.id, port_id: port.id });
    assert.equal(fip.port_id, port.id);
    assert.equal(fip.router_id, router.id);
    assert.equal(fip.fixed_ip_address, fixed);
    assert.equal(fip.status, 'ACTIVE');
    const [tr] = await staticTranslationsOf(port.id);
    assert.ok(tr, 'a static_address translation of the port');
    assert.deepEqual(
      tr.static_addresses.map((a: any) => [a.ingress_ipv4_address, a.egress_ipv4_address]),
      [[fixed, fip.floating_ip_address]],
    );
    assert.deepEqual(
      (await list('floatingips', `?port_id=${port.id}`)).map((f) => f.id),
      [fip.id],
    );

    // A blank update disassociates (neutron-tempest-plugin test_blank_update_clears_association).
    const blank = expect(await update('floatingips', fip.id, {}), 200).floatingip;
    assert.equal(blank.port_id, null);
    assert.equal(blank.router_id, null);
    assert.equal(blank.fixed_ip_address, null);
    assert.equal(blank.floating_ip_address, fip.floating_ip_address, 'the address stays held');
    assert.deepEqual(await staticTranslationsOf(port.id), []);

    // Associated again by PUT, then moved: fixed_ip_address follows the port.
    const again = expect(await update('floatingips', fip.id, { port_id: port.id }), 200).floatingip;
    assert.equal(again.fixed_ip_address, fixed);
    assert.equal((await staticTranslationsOf(port.id)).length, 1);
    const second = await make('ports', { network_id: inside.network.id });
    const moved = expect(await update('floatingips', fip.id, { port_id: second.id }), 200).floatingip;
    assert.equal(moved.port_id, second.id);
    assert.equal(moved.fixed_ip_address, second.fixed_ips[0].ip_address);
    assert.deepEqual(await staticTranslationsOf(port.id), []);
    assert.equal((await staticTranslationsOf(second.id)).length, 1);
    // One floating IP per fixed address.
    refused(await create('floatingips', { floating_network_id: ext.network.id, port_id: second.id }), 409, 'Conflict');
  });

  test("a floating IP follows its port's address when a PUT changes it, and is disassociated when it goes", async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id }), 200);
    const port = await make('ports', { network_id: inside.network.id });
    const fip = await make('floatingips', { floating_network_id: ext.network.id, port_id: port.id });
    const prefix = inside.subnet.cidr.replace(/0\/24$/, '');

    expect(await update('ports', port.id, { fixed_ips: [{ ip_address: `${prefix}77` }] }), 200);
    const moved = await show('floatingips', fip.id);
    assert.equal(moved.port_id, port.id);
    assert.equal(moved.fixed_ip_address, `${prefix}77`);
    const [tr] = await staticTranslationsOf(port.id);
    assert.deepEqual(
      tr.static_addresses.map((a: any) => [a.ingress_ipv4_address, a.egress_ipv4_address]),
      [[`${prefix}77`, fip.floating_ip_address]],
      'the translation forwards to the address the port holds now',
    );
    // The old address is free for another port, and the floating IP does not reach it.
    const taker = await make('ports', {
      network_id: inside.network.id,
      fixed_ips: [{ ip_address: fip.fixed_ip_address }],
    });
    assert.deepEqual(await staticTranslationsOf(taker.id), []);

    expect(await update('ports', port.id, { fixed_ips: [] }), 200);
    const gone = await show('floatingips', fip.id);
    assert.equal(gone.port_id, null);
    assert.equal(gone.fixed_ip_address, null);
    assert.equal(gone.floating_ip_address, fip.floating_ip_address);
    assert.deepEqual(await staticTranslationsOf(port.id), []);
  });

  test('a port with two addresses: a floating IP for each (fixed_ip_address), moved between them, kept when one goes', async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id }), 200);
    const prefix = inside.subnet.cidr.replace(/0\/24$/, '');
    const [a, b] = [`${prefix}81`, `${prefix}82`];
    const port = await make('ports', {
      network_id: inside.network.id,
      fixed_ips: [{ ip_address: a }, { ip_address: b }],
    });
    const pairs = async () =>
      (await staticTranslationsOf(port.id))
        .flatMap((t) => t.static_addresses.map((x: any) => `${x.ingress_ipv4_address}>${x.egress_ipv4_address}`))
        .sort();

    const f1 = await make('floatingips', {
      floating_network_id: ext.network.id,
      port_id: port.id,
      fixed_ip_address: b,
    });
    assert.equal(f1.fixed_ip_address, b);
    assert.deepEqual(await pairs(), [`${b}>${f1.floating_ip_address}`]);
    const moved = expect(await update('floatingips', f1.id, { port_id: port.id, fixed_ip_address: a }), 200).floatingip;
    assert.equal(moved.fixed_ip_address, a);
    assert.deepEqual(await pairs(), [`${a}>${f1.floating_ip_address}`]);
    // An address the port does not hold: 400; the same address twice: 409.
    refused(
      await update('floatingips', f1.id, { port_id: port.id, fixed_ip_address: `${prefix}99` }),
      400,
      'InvalidInput',
    );
    refused(
      await create('floatingips', { floating_network_id: ext.network.id, port_id: port.id, fixed_ip_address: a }),
      409,
      'Conflict',
    );
    const f2 = await make('floatingips', {
      floating_network_id: ext.network.id,
      port_id: port.id,
      fixed_ip_address: b,
    });
    assert.deepEqual(await pairs(), [`${a}>${f1.floating_ip_address}`, `${b}>${f2.floating_ip_address}`].sort());

    // The port gives up b: f2 has no free address of the port to follow (a is f1's), so it is disassociated.
    expect(await update('ports', port.id, { fixed_ips: [{ ip_address: a }] }), 200);
    assert.equal((await show('floatingips', f1.id)).fixed_ip_address, a);
    const gone = await show('floatingips', f2.id);
    assert.equal(gone.port_id, null);
    assert.equal(gone.fixed_ip_address, null);
    assert.deepEqual(await pairs(), [`${a}>${f1.floating_ip_address}`]);
  });

  test('deleting the associated port disassociates the floating IP, whose address stays held', async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id }), 200);
    const port = await make('ports', { network_id: inside.network.id });
    const fip = await make('floatingips', { floating_network_id: ext.network.id, port_id: port.id });
    assert.equal((await staticTranslationsOf(port.id)).length, 1);

    expect(await api('DELETE', `/v2.0/ports/${port.id}`), 204);
    const after = await show('floatingips', fip.id);
    assert.equal(after.port_id, null);
    assert.equal(after.fixed_ip_address, null);
    assert.equal(after.router_id, null);
    assert.equal(after.floating_ip_address, fip.floating_ip_address);
    assert.deepEqual(await staticTranslationsOf(port.id), []);
    // Still held: a port on the external network cannot take the address, nor another floating IP.
    refused(
      await create('ports', { network_id: ext.network.id, fixed_ips: [{ ip_address: fip.floating_ip_address }] }),
      409,
      'IpAddressInUse',
    );
    refused(
      await create('routers', {
        external_gateway_info: {
          network_id: ext.network.id,
          external_fixed_ips: [{ ip_address: fip.floating_ip_address }],
        },
      }),
      409,
      'IpAddressInUse',
    );
    const next = await make('floatingips', { floating_network_id: ext.network.id });
    assert.notEqual(next.floating_ip_address, fip.floating_ip_address);
    expect(await api('DELETE', `/v2.0/floatingips/${fip.id}`), 204);
    refused(await api('GET', `/v2.0/floatingips/${fip.id}`), 404, 'FloatingIPNotFound');
  });
});

describe('floating IPs keep what they need', () => {
  test("an external network's subnet or network is in use while a floating IP holds an address of it (409)", async () => {
    const ext = await externalNetwork();
    const fip = await make('floatingips', { floating_network_id: ext.network.id }, p1);
    refused(await api('DELETE', `/v2.0/subnets/${ext.subnet.id}`), 409, 'SubnetInUse');
    const msg = refused(await api('DELETE', `/v2.0/networks/${ext.network.id}`), 409, 'NetworkInUse');
    assert.ok(msg.includes(fip.id), msg);
    const kept = await show('floatingips', fip.id, p1);
    assert.equal(kept.floating_ip_address, fip.floating_ip_address);
    assert.equal(kept.subnet_id, ext.subnet.id);
    expect(await api('DELETE', `/v2.0/floatingips/${fip.id}`, undefined, p1), 204);
    expect(await api('DELETE', `/v2.0/networks/${ext.network.id}`), 204);
    refused(await api('GET', `/v2.0/subnets/${ext.subnet.id}`), 404, 'SubnetNotFound');
  });

  test("a router's gateway and the interface a floating IP is reached through are in use by it (409)", async () => {
    const ext = await externalNetwork();
    const inside = await networkWithSubnet({ enable_dhcp: false });
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } });
    expect(await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id }), 200);
    const port = await make('ports', { network_id: inside.network.id });
    const fip = await make('floatingips', { floating_network_id: ext.network.id, port_id: port.id });
    assert.equal(fip.router_id, router.id);

    refused(
      await update('routers', router.id, { external_gateway_info: {} }),
      409,
      'RouterExternalGatewayInUseByFloatingIp',
    );
    refused(
      await update('routers', router.id, {
        external_gateway_info: { network_id: (await externalNetwork()).network.id },
      }),
      409,
      'RouterExternalGatewayInUseByFloatingIp',
    );
    refused(
      await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: inside.subnet.id }),
      409,
      'RouterInterfaceInUseByFloatingIP',
    );
    const still = await show('floatingips', fip.id);
    assert.equal(still.router_id, router.id);
    assert.equal((await show('routers', router.id)).external_gateway_info.network_id, ext.network.id);
    // enable_snat may still change: the gateway stays.
    expect(
      await update('routers', router.id, { external_gateway_info: { network_id: ext.network.id, enable_snat: false } }),
      200,
    );

    expect(await update('floatingips', fip.id, { port_id: null }), 200);
    expect(
      await api('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: inside.subnet.id }),
      200,
    );
    expect(await update('routers', router.id, { external_gateway_info: null }), 200);
    expect(await api('DELETE', `/v2.0/routers/${router.id}`), 204);
  });
});

describe('projects', () => {
  test("a member sees its own networks plus shared and external ones, never another project's", async () => {
    const mine = await make('networks', { name: 'p1-net' }, p1);
    assert.equal(mine.project_id, 'p1');
    assert.equal(mine.tenant_id, 'p1');
    const theirs = await make('networks', { name: 'p2-net' }, p2);
    const adminPrivate = await make('networks', { name: 'admin-private' });
    const shared = await make('networks', { name: 'everyone', shared: true });
    const external = await make('networks', { name: 'outside', 'router:external': true });

    const seen = (await list('networks', '', p1)).map((n) => n.id);
    assert.ok(seen.includes(mine.id));
    assert.ok(seen.includes(shared.id));
    assert.ok(seen.includes(external.id));
    assert.ok(!seen.includes(theirs.id));
    assert.ok(!seen.includes(adminPrivate.id));
    for (const n of await list('networks', '', p1))
      assert.ok(n.project_id === 'p1' || n.shared || n['router:external'], JSON.stringify(n));
    refused(await api('GET', `/v2.0/networks/${theirs.id}`, undefined, p1), 404, 'NetworkNotFound');
    assert.equal((await show('networks', shared.id, p1)).id, shared.id);
    // The admin sees them all.
    const all = (await list('networks')).map((n) => n.id);
    for (const id of [mine.id, theirs.id, adminPrivate.id]) assert.ok(all.includes(id));
  });

  test('a member puts no port or subnet on a network it sees but does not own unless it is shared (404, as Neutron)', async () => {
    const ext = await externalNetwork();
    const upstream = ext.subnet.gateway_ip;
    refused(
      await create('ports', { network_id: ext.network.id, fixed_ips: [{ ip_address: upstream }] }, p1),
      404,
      'NetworkNotFound',
    );
    refused(await create('ports', { network_id: ext.network.id }, p1), 404, 'NetworkNotFound');
    assert.deepEqual(await list('ports', `?network_id=${ext.network.id}`, p1), []);
    const bare = await make('networks', { name: 'ext-bare', 'router:external': true });
    refused(
      await create('subnets', { network_id: bare.id, ip_version: 4, cidr: '10.99.0.0/24' }, p1),
      404,
      'NetworkNotFound',
    );
    // A shared network takes anyone's ports (in the member's project).
    const { network: shared } = await networkWithSubnet({ enable_dhcp: false });
    expect(await update('networks', shared.id, { shared: true }), 200);
    const port = await make('ports', { network_id: shared.id }, p1);
    assert.equal(port.project_id, 'p1');
    assert.equal(port.fixed_ips.length, 1);
  });

  test("a member's router takes a gateway on an external network, but only an admin picks its address (403)", async () => {
    const ext = await externalNetwork();
    const upstream = ext.subnet.gateway_ip;
    const info = (ip: string) => ({ network_id: ext.network.id, external_fixed_ips: [{ ip_address: ip }] });
    refused(await create('routers', { external_gateway_info: info(upstream) }, p1), 403, 'PolicyNotAuthorized');
    const router = await make('routers', { external_gateway_info: { network_id: ext.network.id } }, p1);
    const got = router.external_gateway_info.external_fixed_ips[0].ip_address;
    assert.notEqual(got, upstream);
    refused(
      await update('routers', router.id, { external_gateway_info: info(upstream) }, p1),
      403,
      'PolicyNotAuthorized',
    );
    assert.equal((await show('routers', router.id, p1)).external_gateway_info.external_fixed_ips[0].ip_address, got);
    // The admin may.
    const prefix = ext.subnet.cidr.replace(/0\/24$/, '');
    const admins = await make('routers', { external_gateway_info: info(`${prefix}200`) });
    assert.equal(admins.external_gateway_info.external_fixed_ips[0].ip_address, `${prefix}200`);
  });

  test("another project's port, router and floating IP are 404 to a member (not 403), and unchanged by it", async () => {
    const ext = await externalNetwork();
    const { network } = await networkWithSubnet({ enable_dhcp: false }, p2);
    const port = await make('ports', { network_id: network.id }, p2);
    const router = await make('routers', { name: 'p2-router' }, p2);
    const fip = await make('floatingips', { floating_network_id: ext.network.id }, p2);
    assert.equal(fip.project_id, 'p2');

    refused(await api('GET', `/v2.0/ports/${port.id}`, undefined, p1), 404, 'PortNotFound');
    refused(await api('GET', `/v2.0/routers/${router.id}`, undefined, p1), 404, 'RouterNotFound');
    refused(await api('GET', `/v2.0/floatingips/${fip.id}`, undefined, p1), 404, 'FloatingIPNotFound');
    refused(await update('ports', port.id, { name: 'hijacked' }, p1), 404, 'PortNotFound');
    refused(await api('DELETE', `/v2.0/routers/${router.id}`, undefined, p1), 404, 'RouterNotFound');
    refused(await api('DELETE', `/v2.0/floatingips/${fip.id}`, undefined, p1), 404, 'FloatingIPNotFound');
    refused(await api('DELETE', `/v2.0/networks/${network.id}`, undefined, p1), 404, 'NetworkNotFound');
    // Nor can it attach a port to p2's network.
    refused(await create('ports', { network_id: network.id }, p1), 404, 'NetworkNotFound');
    assert.equal((await show('ports', port.id)).name, '');
    for (const kind of ['ports', 'routers', 'floatingips', 'security-groups', 'security-group-rules'])
      for (const o of await list(kind, '', p1)) assert.equal(o.project_id, 'p1', `${kind}: ${JSON.stringify(o)}`);
    // Subnets: its own, and those of shared networks.
    const shared = new Set((await list('networks', '?shared=True', p1)).map((n) => n.id));
    for (const o of await list('subnets', '', p1))
      assert.ok(o.project_id === 'p1' || shared.has(o.network_id), JSON.stringify(o));
    assert.ok(!(await list('subnets', '', p1)).some((o) => o.network_id === network.id));
  });

  test('a member creates in its own project and may not name another (403); tenant_id equals project_id', async () => {
    const { network, subnet } = await networkWithSubnet({ enable_dhcp: false }, p1);
    const port = await make('ports', { network_id: network.id }, p1);
    const sg = await make('security-groups', { name: 'p1-sg' }, p1);
    const rule = await make('security-group-rules', { security_group_id: sg.id, direction: 'ingress' }, p1);
    const router = await make('routers', { name: 'p1-router' }, p1);
    const info = expect(
      await api('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }, p1),
      200,
    );
    const ext = await externalNetwork();
    const fip = await make('floatingips', { floating_network_id: ext.network.id }, p1);
    for (const o of [network, subnet, port, sg, rule, router, info, fip, ...sg.security_group_rules]) {
      assert.equal(o.project_id, 'p1', JSON.stringify(o));
      assert.equal(o.tenant_id, o.project_id, JSON.stringify(o));
    }
    for (const collection of ['networks', 'subnets', 'ports', 'routers', 'floatingips', 'security-groups']) {
      refused(await create(collection, { project_id: 'p2' }, p1), 403, 'PolicyNotAuthorized');
      refused(await create(collection, { tenant_id: 'p2' }, p1), 403, 'PolicyNotAuthorized');
    }
    // Its own project it may name (Neutron's populate_project_info; `openstack ... --project` sends it).
    assert.equal((await make('networks', { project_id: 'p1' }, p1)).project_id, 'p1');
    assert.equal((await make('routers', { tenant_id: 'p1', project_id: 'p1' }, p1)).project_id, 'p1');
    assert.equal((await make('security-groups', { name: 'named', tenant_id: 'p1' }, p1)).tenant_id, 'p1');
    // The admin may make objects in any project; tenant_id alone says which.
    const forP2 = await make('networks', { name: 'made-for-p2', tenant_id: 'p2' });
    assert.equal(forP2.project_id, 'p2');
    assert.ok((await list('networks', '', p2)).some((n) => n.id === forP2.id));
    refused(await create('networks', { project_id: 'p1', tenant_id: 'p2' }), 400, 'InvalidInput');
    // Every object the admin lists has tenant_id = project_id.
    for (const kind of [
      'networks',
      'subnets',
      'ports',
      'routers',
      'floatingips',
      'security-groups',
      'security-group-rules',
    ])
      for (const o of await list(kind)) assert.equal(o.tenant_id, o.project_id, `${kind}: ${JSON.stringify(o)}`);
  });
});

describe('one model', () => {
  test('a network made through the OpenVNet API is listed by Neutron (project ""), and the other way round', async () => {
    const vnet = await ok(s, 'POST', '/api/1.0/networks', {
      display_name: 'from-openvnet',
      ipv4_network: '10.77.0.0',
      ipv4_prefix: 24,
    });
    const listed = (await list('networks')).find((n) => n.id === vnet.uuid);
    assert.ok(listed, 'the admin lists it');
    assert.equal(listed.name, 'from-openvnet');
    assert.equal(listed.project_id, '');
    assert.equal(listed.tenant_id, '');
    assert.ok(!(await list('networks', '', p1)).some((n) => n.id === vnet.uuid), 'no member sees it');

    const made = await make('networks', { name: 'from-neutron', description: 'made by Neutron' });
    const shown = await ok(s, 'GET', `/api/1.0/networks/${made.id}`);
    assert.equal(shown.uuid, made.id);
    assert.equal(shown.display_name, 'from-neutron');
    assert.equal(shown.project_id, 'admin');
    // A rename on either side shows on the other.
    await ok(s, 'PUT', `/api/1.0/networks/${made.id}`, { display_name: 'renamed-in-openvnet' });
    assert.equal((await show('networks', made.id)).name, 'renamed-in-openvnet');
  });
});

describe('sorting and pagination (sorting, pagination extensions) and ip-substring-filtering', () => {
  test('the extensions are advertised', async () => {
    const aliases = expect(await api('GET', '/v2.0/extensions'), 200).extensions.map((e: any) => e.alias);
    for (const a of ['sorting', 'pagination', 'ip-substring-filtering']) assert.ok(aliases.includes(a), a);
  });

  test('sort_key/sort_dir order the list; id breaks ties; bad keys and dirs are 400s naming them', async () => {
    const tag = `sort${Date.now()}`;
    for (const n of ['b', 'a', 'c']) await make('networks', { name: `${tag}-${n}` }, p1);
    const names = async (q: string) =>
      (await list('networks', `?${q}`, p1)).map((n) => n.name).filter((x: string) => x.startsWith(tag));
    assert.deepEqual(await names('sort_key=name&sort_dir=asc'), [`${tag}-a`, `${tag}-b`, `${tag}-c`]);
    assert.deepEqual(await names('sort_key=name&sort_dir=desc'), [`${tag}-c`, `${tag}-b`, `${tag}-a`]);
    assert.match(
      refused(await api('GET', '/v2.0/networks?sort_key=colour', undefined, p1), 400, 'HTTPBadRequest'),
      /colour/,
    );
    assert.match(
      refused(await api('GET', '/v2.0/networks?sort_key=name&sort_dir=up', undefined, p1), 400, 'HTTPBadRequest'),
      /up is an invalid value for sort_dirs/,
    );
    refused(
      await api('GET', '/v2.0/networks?sort_key=name&sort_dir=asc&sort_dir=desc', undefined, p1),
      400,
      'HTTPBadRequest',
    );
  });

  test('limit and marker walk a list page by page with next/previous links, forwards and back', async () => {
    for (let i = 0; i < 5; i++) await make('security-groups', { name: `page${i}` }, p2);
    const all = (await list('security-groups', '?sort_key=id', p2)).map((g) => g.id);
    assert.ok(all.length >= 6, 'five groups and the default one');
    const seen: string[] = [];
    let url = '/v2.0/security-groups?limit=2&sort_key=id';
    for (let pages = 0; url && pages < 10; pages++) {
      const body = expect(await api('GET', url, undefined, p2), 200);
      seen.push(...body.security_groups.map((g: any) => g.id));
      const next = body.security_groups_links?.find((l: any) => l.rel === 'next');
      url = next ? new URL(next.href).pathname + new URL(next.href).search : '';
    }
    assert.deepEqual(seen, all, 'every group once, in order');
    // Back from the third: page_reverse gives the two before it, still in ascending order.
    const back = expect(
      await api('GET', `/v2.0/security-groups?limit=2&sort_key=id&marker=${all[2]}&page_reverse=True`, undefined, p2),
      200,
    );
    assert.deepEqual(
      back.security_groups.map((g: any) => g.id),
      [all[0], all[1]],
    );
    refused(await api('GET', '/v2.0/security-groups?limit=-1', undefined, p2), 400, 'HTTPBadRequest');
    refused(
      await api('GET', '/v2.0/security-groups?limit=2&marker=sg-nonesuch', undefined, p2),
      404,
      'SecurityGroupNotFound',
    );
    // Without limit or marker: no links, as Neutron.
    assert.equal(
      expect(await api('GET', '/v2.0/security-groups', undefined, p2), 200).security_groups_links,
      undefined,
    );
  });

  test('fixed_ips=ip_address_substr= filters ports by part of their address', async () => {
    const { network } = await networkWithSubnet({}, p1);
    const port = await make('ports', { network_id: network.id }, p1);
    const ip = port.fixed_ips[0].ip_address as string;
    const tail = ip.split('.').slice(1).join('.');
    const hits = await list('ports', `?network_id=${network.id}&fixed_ips=ip_address_substr=${tail}`, p1);
    assert.deepEqual(
      hits.map((p) => p.id),
      [port.id],
    );
    assert.deepEqual(await list('ports', `?network_id=${network.id}&fixed_ips=ip_address_substr=203.0.113`, p1), []);
  });
});
