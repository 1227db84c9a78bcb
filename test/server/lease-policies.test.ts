// Lease policies over real HTTP: an interface added to a policy gets an address from its range group; retention
// containers release it after lease_time (and hand it back to the same interface within grace_time) and delete it
// after grace_time — driven by the server's sweep from stored times, across a server restart.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LeaseSweeper } from '../../src/server/lease-sweeper.js';
import { startServer, type TestServer } from './helpers.js';

type Reply = { status: number; body: any };

/** A request over the server's real socket (JSON body or query string). */
async function http(s: TestServer, method: string, path: string, params: Record<string, unknown> = {}): Promise<Reply> {
  const query = method === 'GET' || method === 'DELETE';
  const url = new URL(`/api/1.0${path}`, s.base);
  if (query) for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  const res = await fetch(url, {
    method,
    ...(query ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(s: TestServer, method: string, path: string, params: Record<string, unknown> = {}) {
  const r = await http(s, method, path, params);
  assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function refused(
  s: TestServer,
  method: string,
  path: string,
  params: Record<string, unknown>,
  status: number,
  code: string,
  field: string,
) {
  const r = await http(s, method, path, params);
  assert.equal(r.status, status, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, code, JSON.stringify(r.body));
  assert.match(r.body.message, new RegExp(`^${field}\\b`), JSON.stringify(r.body));
}

/** Polls `probe` until it returns something truthy (generous: the machine is shared and loaded). */
async function until<T>(what: string, probe: () => Promise<T>, timeoutMs = 60_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ipOf = async (s: TestServer, iface: string) => (await ok(s, 'GET', `/interfaces/${iface}`)).ipv4_address ?? null;

/** OpenVNet's lease_policy dataset, in our words: one network, a range .20-.30, vif interfaces with MACs. */
async function dataset(s: TestServer, irc: { lease_time: number; grace_time: number }) {
  await ok(s, 'POST', '/networks', { uuid: 'nw-vnet1', ipv4_network: '10.101.0.0', ipv4_prefix: 24 });
  for (const n of [1, 2, 3, 4, 5])
    await ok(s, 'POST', '/interfaces', { uuid: `if-v${n}`, mode: 'vif', mac_address: `02:00:00:00:00:0${n}` });
  await ok(s, 'POST', '/lease_policies', { uuid: 'lp-1' });
  await ok(s, 'POST', '/ip_range_groups', { uuid: 'iprg-1' });
  await ok(s, 'POST', '/ip_range_groups/iprg-1/ip_ranges', {
    begin_ipv4_address: '10.101.0.20',
    end_ipv4_address: '10.101.0.30',
  });
  await ok(s, 'POST', '/lease_policies/lp-1/networks/nw-vnet1', { ip_range_group_uuid: 'iprg-1' });
  await ok(s, 'POST', '/ip_lease_containers', { uuid: 'ilc-1' });
  await ok(s, 'POST', '/lease_policies/lp-1/ip_lease_containers/ilc-1');
  await ok(s, 'POST', '/ip_retention_containers', { uuid: 'irc-1', ...irc });
  await ok(s, 'POST', '/lease_policies/lp-1/ip_retention_containers/irc-1');
}

describe('lease policies', () => {
  let s: TestServer;
  before(async () => {
    // No sweep: nothing expires here (lease_time is long); the expiry tests below run their own servers.
    s = await startServer({ leaseSweepMs: 0 });
    await dataset(s, { lease_time: 3600, grace_time: 600 });
  });
  after(() => s.close());

  it('an interface added to the policy gets the range group’s first free address, in the containers', async () => {
    const lp = await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v1', { label: 'web' });
    assert.equal(lp.uuid, 'lp-1');
    await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v3');
    assert.equal(await ipOf(s, 'if-v1'), '10.101.0.20');
    assert.equal(await ipOf(s, 'if-v3'), '10.101.0.21');
    const iface = await ok(s, 'GET', '/interfaces/if-v1');
    assert.equal(iface.mac_leases[0].ip_leases[0].network_uuid, 'nw-vnet1');
    const leases = await ok(s, 'GET', '/ip_lease_containers/ilc-1/ip_leases');
    assert.deepEqual(leases.items.map((l: { ipv4_address: string }) => l.ipv4_address).sort(), [
      '10.101.0.20',
      '10.101.0.21',
    ]);
    const retentions = await ok(s, 'GET', '/ip_retention_containers/irc-1/ip_retentions');
    assert.equal(retentions.total_count, 2);
    for (const r of retentions.items) {
      assert.equal(r.released_at, null);
      assert.ok(Date.parse(r.leased_at) > 0);
    }
    const listed = await ok(s, 'GET', '/lease_policies/lp-1/interfaces');
    assert.deepEqual(
      listed.items.map((i: { uuid: string }) => i.uuid),
      ['if-v1', 'if-v3'],
    );
    const policy = await ok(s, 'GET', '/lease_policies/lp-1');
    assert.equal(policy.interfaces[0].label, 'web');
    assert.equal((await ok(s, 'GET', '/lease_policies/lp-1/networks')).items[0].uuid, 'nw-vnet1');
  });

  it('a lease without an interface (POST /lease_policies/:uuid/ip_leases) takes the next address', async () => {
    const lease = await ok(s, 'POST', '/lease_policies/lp-1/ip_leases', { ip_lease_uuid: 'il-free1' });
    assert.equal(lease.uuid, 'il-free1');
    assert.equal(lease.ipv4_address, '10.101.0.22');
    assert.equal(lease.interface_uuid, null);
  });

  it('bad requests are refused naming the field', async () => {
    await refused(s, 'POST', '/lease_policies/lp-1/interfaces/if-v1', {}, 400, '112', 'interface_uuid');
    await refused(s, 'POST', '/lease_policies', { timing: 'dhcp' }, 400, '125', 'timing');
    await refused(s, 'PUT', '/lease_policies/lp-1', { timing: 'dhcp' }, 400, '125', 'timing');
    await refused(s, 'POST', '/lease_policies', { mode: 'fancy' }, 400, '110', 'mode');
    await refused(s, 'POST', '/lease_policies/lp-1/networks/nw-vnet1', {}, 400, '111', 'ip_range_group_uuid');
    await ok(s, 'POST', '/lease_policies', { uuid: 'lp-empty' });
    await refused(
      s,
      'POST',
      '/lease_policies/lp-empty/networks/nw-vnet1',
      { ip_range_group_uuid: 'iprg-nope' },
      404,
      '100',
      'ip_range_group_uuid',
    );
    await refused(s, 'POST', '/lease_policies/lp-empty/interfaces/if-v2', {}, 400, '110', 'network_uuid');
    await ok(s, 'POST', '/interfaces', { uuid: 'if-nomac' });
    await refused(s, 'POST', '/lease_policies/lp-1/interfaces/if-nomac', {}, 400, '110', 'interface_uuid');
    await refused(s, 'POST', '/ip_retention_containers', { lease_time: -1 }, 400, '110', 'lease_time');
    await refused(
      s,
      'POST',
      '/lease_policies/lp-1/ip_retention_containers/irc-1',
      {},
      400,
      '112',
      'ip_retention_container_uuid',
    );
    await refused(s, 'DELETE', '/lease_policies/lp-1/interfaces/if-v2', {}, 404, '114', 'interface_uuid');
  });

  it('a full range group is a 409 naming ip_range_group_uuid', async () => {
    await ok(s, 'POST', '/ip_range_groups', { uuid: 'iprg-one' });
    await ok(s, 'POST', '/ip_range_groups/iprg-one/ip_ranges', {
      begin_ipv4_address: '10.101.0.40',
      end_ipv4_address: '10.101.0.40',
    });
    await ok(s, 'POST', '/lease_policies', { uuid: 'lp-one' });
    await ok(s, 'POST', '/lease_policies/lp-one/networks/nw-vnet1', { ip_range_group_uuid: 'iprg-one' });
    await ok(s, 'POST', '/lease_policies/lp-one/interfaces/if-v4');
    assert.equal(await ipOf(s, 'if-v4'), '10.101.0.40');
    await refused(s, 'POST', '/lease_policies/lp-one/interfaces/if-v5', {}, 409, '120', 'ip_range_group_uuid');
  });

  it('deleting a lease leaves the containers; deleting a container leaves the policy', async () => {
    await ok(s, 'DELETE', '/ip_leases/il-free1');
    const leases = await ok(s, 'GET', '/ip_lease_containers/ilc-1/ip_leases');
    assert.equal(leases.total_count, 2);
    await ok(s, 'POST', '/ip_lease_containers', { uuid: 'ilc-2' });
    await ok(s, 'POST', '/lease_policies/lp-1/ip_lease_containers/ilc-2');
    await ok(s, 'DELETE', '/ip_lease_containers/ilc-2');
    assert.deepEqual((await ok(s, 'GET', '/lease_policies/lp-1')).ip_lease_container_uuids, ['ilc-1']);
    await ok(s, 'DELETE', '/lease_policies/lp-1/ip_lease_containers/ilc-1');
    assert.deepEqual((await ok(s, 'GET', '/lease_policies/lp-1')).ip_lease_container_uuids, []);
  });

  it('an interface, range group or network that goes leaves the policies naming it', async () => {
    await ok(s, 'DELETE', '/interfaces/if-v3');
    const lp = await ok(s, 'GET', '/lease_policies/lp-1');
    assert.deepEqual(
      lp.interfaces.map((i: { interface_uuid: string }) => i.interface_uuid),
      ['if-v1'],
    );
    await ok(s, 'DELETE', '/ip_range_groups/iprg-one');
    assert.deepEqual((await ok(s, 'GET', '/lease_policies/lp-one')).networks, []);
    await ok(s, 'DELETE', '/networks/nw-vnet1');
    assert.deepEqual((await ok(s, 'GET', '/lease_policies/lp-1')).networks, []);
    await refused(s, 'POST', '/lease_policies/lp-1/interfaces/if-v2', {}, 400, '110', 'network_uuid');
  });
});

describe('lease expiry (the server sweeps stored times)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnet-lease-'));

  it('lease_time releases the address, even when it passed while the server was down; grace_time deletes it', async () => {
    const path = join(dir, 'restart.db');
    let s = await startServer({ path, leaseSweepMs: 0 });
    await dataset(s, { lease_time: 2, grace_time: 2 });
    await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v1');
    assert.equal(await ipOf(s, 'if-v1'), '10.101.0.20');
    await s.close();
    // Down for longer than lease_time: the next server finds the lease due from its stored leased_at.
    await new Promise((r) => setTimeout(r, 2_500));
    s = await startServer({ path, leaseSweepMs: 100 });
    try {
      await until('the lease released', async () => (await ipOf(s, 'if-v1')) === null);
      const [r] = (await ok(s, 'GET', '/ip_retention_containers/irc-1/ip_retentions')).items;
      assert.ok(r.released_at !== null, 'released_at recorded');
      const lease = await ok(s, 'GET', '/ip_leases', { ipv4_address: '10.101.0.20' });
      assert.equal(lease.items[0].interface_uuid, null, 'kept, attached to nothing, during grace_time');
      await until('the lease deleted after grace_time', async () => {
        const left = await ok(s, 'GET', '/ip_leases', { ipv4_address: '10.101.0.20' });
        return left.total_count === 0;
      });
      assert.equal((await ok(s, 'GET', '/ip_retention_containers/irc-1/ip_retentions')).total_count, 0);
      assert.equal((await ok(s, 'GET', '/ip_lease_containers/ilc-1/ip_leases')).total_count, 0);
    } finally {
      await s.close();
    }
  });

  it('within grace_time, the same interface added again gets its address back (a new lease term)', async () => {
    const s = await startServer({ path: join(dir, 'grace.db'), leaseSweepMs: 100 });
    try {
      await dataset(s, { lease_time: 1, grace_time: 3600 });
      await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v3');
      await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v5');
      assert.equal(await ipOf(s, 'if-v5'), '10.101.0.21');
      await until('both released', async () => (await ipOf(s, 'if-v3')) === null && (await ipOf(s, 'if-v5')) === null);
      // Another interface does not get the kept addresses; if-v5 gets its own back.
      await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v2');
      assert.equal(await ipOf(s, 'if-v2'), '10.101.0.22');
      await ok(s, 'DELETE', '/lease_policies/lp-1/interfaces/if-v5');
      await ok(s, 'POST', '/lease_policies/lp-1/interfaces/if-v5');
      assert.equal(await ipOf(s, 'if-v5'), '10.101.0.21');
      const r = (await ok(s, 'GET', '/ip_retention_containers/irc-1/ip_retentions')).items.find(
        (x: { interface_uuid: string }) => x.interface_uuid === 'if-v5',
      );
      assert.equal(r.released_at, null);
    } finally {
      await s.close();
    }
  });

  it('two sweeps at once change each due lease once', async () => {
    const s = await startServer({ leaseSweepMs: 0 });
    try {
      await dataset(s, { lease_time: 0, grace_time: 3600 });
      for (const n of [1, 2, 3]) await ok(s, 'POST', `/lease_policies/lp-1/interfaces/if-v${n}`);
      const now = Date.now() + 1_000;
      const a = new LeaseSweeper(s.service, 0);
      const b = new LeaseSweeper(s.service, 0);
      const counts = await Promise.all([a.sweep(now), b.sweep(now), a.sweep(now)]);
      assert.equal(
        counts.reduce((x, y) => x + y, 0),
        3,
        `released three leases in all (${counts})`,
      );
      for (const n of [1, 2, 3]) assert.equal(await ipOf(s, `if-v${n}`), null);
    } finally {
      await s.close();
    }
  });

  it('two servers on one store, both sweeping, release each lease once', async () => {
    const path = join(dir, 'two.db');
    const a = await startServer({ path, leaseSweepMs: 0 });
    await dataset(a, { lease_time: 1, grace_time: 3600 });
    for (const n of [1, 2, 3]) await ok(a, 'POST', `/lease_policies/lp-1/interfaces/if-v${n}`);
    const from = (await a.store.changesSince(0, 1)).current;
    await a.close();
    const servers = [await startServer({ path, leaseSweepMs: 50 }), await startServer({ path, leaseSweepMs: 50 })];
    try {
      const [s] = servers as [TestServer];
      await until('all three released', async () => {
        for (const n of [1, 2, 3]) if ((await ipOf(s, `if-v${n}`)) !== null) return false;
        return true;
      });
      // Let both keep sweeping a while: nothing more may change.
      await new Promise((r) => setTimeout(r, 500));
      const changes = (await s.store.changesSince(from, 10_000)).changes;
      const releases = changes.filter((c) => c.resource === 'ip_leases' && c.op === 'upsert');
      assert.equal(releases.length, 3, releases.map((c) => `${c.revision} ${c.uuid}`).join(', '));
      assert.equal(new Set(releases.map((c) => c.uuid)).size, 3);
    } finally {
      for (const s of servers) await s.close();
    }
  });
});
