// Topologies through real HTTP: OpenVNet's relations, the datapath_networks / _segments / _route_links rows they
// derive (each naming its topology), their withdrawal, and the refusals naming the field.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runVnctl } from '../../src/cli/vnctl/main.js';
import type { Store, StoreWriter } from '../../src/store/store.js';
import { startServer, type TestServer } from './helpers.js';

describe('topologies', () => {
  let s: TestServer;
  /** One request over the server's real socket (OpenVNet's clients send JSON bodies or forms). */
  async function http(method: string, path: string, body?: Record<string, unknown>) {
    const res = await fetch(`${s.base}/api/1.0${path}`, {
      method,
      ...(body && Object.keys(body).length > 0
        ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
        : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
  }
  async function ok(method: string, path: string, body?: Record<string, unknown>) {
    const r = await http(method, path, body);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status} ${r.text}`);
    return r.body;
  }
  async function fails(
    method: string,
    path: string,
    body: Record<string, unknown>,
    status: number,
    code: string,
    field?: string,
  ) {
    const r = await http(method, path, body);
    assert.equal(r.status, status, `${method} ${path} → ${r.status} ${r.text}`);
    assert.equal(r.body.code, code, r.text);
    if (field) assert.equal(r.body.field, field, r.text);
    return r.body;
  }
  /** The derived rows of a kind, by "<dp>/<other>" → [topology_uuid, interface_uuid, mac_address]. */
  async function rows(kind: string) {
    const list = (await s.service.read((ctx) => ctx.find(kind as 'datapath_networks'))) as Record<string, unknown>[];
    return Object.fromEntries(
      list.map((r) => [r.uuid, [r.topology_uuid ?? null, r.interface_uuid, r.mac_address]]),
    ) as Record<string, unknown[]>;
  }

  before(async () => {
    s = await startServer();
    await ok('POST', '/networks', { uuid: 'nw-public1', ipv4_network: '192.168.10.0', network_mode: 'physical' });
    for (const n of [1, 2, 3]) {
      await ok('POST', '/datapaths', { uuid: `dp-${n}`, node_id: `vna${n}`, dpid: `0x000000000000000${n}` });
      await ok('POST', '/interfaces', {
        uuid: `if-dp${n}eth0`,
        mode: 'host',
        port_name: 'eth0',
        owner_datapath_uuid: `dp-${n}`,
        network_uuid: 'nw-public1',
        mac_address: `02:01:00:00:00:0${n}`,
        ipv4_address: `192.168.10.${n}`,
      });
    }
    await ok('POST', '/mac_range_groups', { uuid: 'mrg-dpg' });
    await ok('POST', '/mac_range_groups/mrg-dpg/mac_ranges', {
      begin_mac_address: '08:00:27:aa:00:00',
      end_mac_address: '08:00:27:aa:ff:ff',
    });
    // OpenVNet's base_topology.yml, through the API.
    await ok('POST', '/topologies', { uuid: 'topo-physical', mode: 'simple_underlay' });
    await ok('POST', '/topologies', { uuid: 'topo-vnet', mode: 'simple_overlay' });
    await ok('POST', '/topologies/topo-vnet/underlays/topo-physical');
    for (const n of [1, 2])
      await ok('POST', `/topologies/topo-physical/datapaths/dp-${n}`, { interface_uuid: `if-dp${n}eth0` });
    await ok('POST', '/topologies/topo-physical/mac_range_groups/mrg-dpg');
    await ok('POST', '/topologies/topo-physical/networks/nw-public1');
    for (const n of [1, 2]) await ok('POST', '/networks', { uuid: `nw-vnet${n}`, ipv4_network: '10.101.0.0' });
  });
  after(() => s.close());

  it("an underlay's network gets a row on each of its datapaths, with the host interface and a MAC from its group", async () => {
    const r = await rows('datapath_networks');
    assert.deepEqual(r['dp-1/nw-public1']?.slice(0, 2), ['topo-physical', 'if-dp1eth0']);
    assert.deepEqual(r['dp-2/nw-public1']?.slice(0, 2), ['topo-physical', 'if-dp2eth0']);
    assert.match(String(r['dp-1/nw-public1']?.[2]), /^08:00:27:aa:/);
    assert.notEqual(r['dp-1/nw-public1']?.[2], r['dp-2/nw-public1']?.[2], 'one MAC per row');
    assert.equal(r['dp-3/nw-public1'], undefined, 'dp-3 is in no topology');
    const shown = await ok('GET', '/datapaths/dp-1/networks/nw-public1');
    assert.equal(shown.topology_uuid, 'topo-physical');
  });

  it("networks added to an overlay are provisioned on its underlays' datapaths; removing one withdraws it", async () => {
    await ok('POST', '/topologies/topo-vnet/networks/nw-vnet1');
    const added = await ok('POST', '/topologies/topo-vnet/networks/nw-vnet2');
    assert.deepEqual(
      { topology_uuid: added.topology_uuid, network_uuid: added.network_uuid },
      { topology_uuid: 'topo-vnet', network_uuid: 'nw-vnet2' },
    );
    let r = await rows('datapath_networks');
    for (const k of ['dp-1/nw-vnet1', 'dp-2/nw-vnet1', 'dp-1/nw-vnet2', 'dp-2/nw-vnet2'])
      assert.equal(r[k]?.[0], 'topo-vnet', k);
    const list = await ok('GET', '/topologies/topo-vnet/networks');
    assert.deepEqual(
      list.items.map((i: { network_uuid: string }) => i.network_uuid),
      ['nw-vnet1', 'nw-vnet2'],
    );
    assert.deepEqual(await ok('DELETE', '/topologies/topo-vnet/networks/nw-vnet1'), ['nw-vnet1']);
    r = await rows('datapath_networks');
    assert.equal(r['dp-1/nw-vnet1'], undefined);
    assert.equal(r['dp-2/nw-vnet1'], undefined);
    assert.equal(r['dp-1/nw-vnet2']?.[0], 'topo-vnet');
    // Re-adding provisions it again.
    await ok('POST', '/topologies/topo-vnet/networks/nw-vnet1');
    assert.equal((await rows('datapath_networks'))['dp-2/nw-vnet1']?.[0], 'topo-vnet');
  });

  it('a datapath joining the underlay gets every network of the underlay and of its overlays; leaving drops them', async () => {
    await ok('POST', '/topologies/topo-physical/datapaths/dp-3', { interface_uuid: 'if-dp3eth0' });
    let r = await rows('datapath_networks');
    for (const k of ['dp-3/nw-public1', 'dp-3/nw-vnet1', 'dp-3/nw-vnet2']) assert.equal(r[k]?.[1], 'if-dp3eth0', k);
    await ok('DELETE', '/topologies/topo-physical/datapaths/dp-3');
    r = await rows('datapath_networks');
    for (const k of ['dp-3/nw-public1', 'dp-3/nw-vnet1', 'dp-3/nw-vnet2']) assert.equal(r[k], undefined, k);
  });

  it("segments and route links follow the overlay too; a topology's row is not removed or rewired by hand", async () => {
    await ok('POST', '/segments', { uuid: 'seg-a' });
    await ok('POST', '/route_links', { uuid: 'rl-a' });
    await ok('POST', '/topologies/topo-vnet/segments/seg-a');
    await ok('POST', '/topologies/topo-vnet/route_links/rl-a');
    assert.equal((await rows('datapath_segments'))['dp-1/seg-a']?.[0], 'topo-vnet');
    assert.equal((await rows('datapath_route_links'))['dp-2/rl-a']?.[0], 'topo-vnet');
    await fails('DELETE', '/datapaths/dp-1/networks/nw-vnet1', {}, 409, '113');
    await fails(
      'PUT',
      '/datapaths/dp-1/networks/nw-vnet1',
      { interface_uuid: 'if-dp2eth0' },
      400,
      '110',
      'interface_uuid',
    );
    await ok('PUT', '/datapaths/dp-1/networks/nw-vnet1', { gateway_priority: 10 });
    await ok('DELETE', '/topologies/topo-vnet/segments/seg-a');
    assert.equal((await rows('datapath_segments'))['dp-1/seg-a'], undefined);
  });

  it('a row written through /datapaths wins over the topology, and is not withdrawn with it', async () => {
    await ok('POST', '/networks', { uuid: 'nw-hand', ipv4_network: '10.102.0.0' });
    await ok('POST', '/datapaths/dp-1/networks/nw-hand', { interface_uuid: 'if-dp1eth0' });
    await ok('POST', '/topologies/topo-vnet/networks/nw-hand');
    let r = await rows('datapath_networks');
    assert.equal(r['dp-1/nw-hand']?.[0], null);
    assert.equal(r['dp-2/nw-hand']?.[0], 'topo-vnet');
    await ok('DELETE', '/topologies/topo-vnet/networks/nw-hand');
    r = await rows('datapath_networks');
    assert.deepEqual(r['dp-1/nw-hand']?.slice(0, 2), [null, 'if-dp1eth0']);
    assert.equal(r['dp-2/nw-hand'], undefined);
  });

  it("OpenVNet's topology_uuid on create adds the object to the topology; deleting it takes it out", async () => {
    await ok('POST', '/networks', { uuid: 'nw-join', ipv4_network: '10.103.0.0', topology_uuid: 'topo-vnet' });
    const nw = await ok('GET', '/networks/nw-join');
    assert.equal(nw.topology_uuid, undefined, 'not stored on the network: the topology holds the membership');
    assert.equal((await rows('datapath_networks'))['dp-1/nw-join']?.[0], 'topo-vnet');
    await ok('DELETE', '/networks/nw-join');
    const list = await ok('GET', '/topologies/topo-vnet/networks');
    assert.ok(!list.items.some((i: { network_uuid: string }) => i.network_uuid === 'nw-join'));
    await fails('PUT', '/networks/nw-vnet1', { topology_uuid: 'topo-vnet' }, 400, '121', 'topology_uuid');
    await fails('POST', '/route_links', { uuid: 'rl-b', topology_uuid: 'topo-physical' }, 400, '110', 'mode');
    await fails('GET', '/route_links/rl-b', {}, 404, '100');
  });

  it('refusals name the field', async () => {
    await fails('POST', '/topologies', { uuid: 'topo-x', mode: 'overlay' }, 400, '110', 'mode');
    await fails('POST', '/topologies', { uuid: 'topo-x' }, 400, '111', 'mode');
    // A mode changes in place only while every member is one the new mode takes (topo-vnet has route links and underlays).
    const noUnderlay = await fails('PUT', '/topologies/topo-vnet', { mode: 'simple_underlay' }, 400, '110', 'mode');
    assert.match(noUnderlay.message, /has route_links \(rl-a\), which a simple_underlay topology does not take/);
    await fails('PUT', '/topologies/topo-physical', { mode: 'simple_overlay' }, 400, '110', 'mode');
    await fails('POST', '/topologies/topo-physical/route_links/rl-a', {}, 400, '110', 'mode');
    await fails('POST', '/topologies/topo-vnet/datapaths/dp-3', { interface_uuid: 'if-dp3eth0' }, 400, '110', 'mode');
    await fails('POST', '/topologies/topo-vnet/mac_range_groups/mrg-dpg', {}, 400, '110', 'mode');
    await fails('POST', '/topologies/topo-physical/underlays/topo-vnet', {}, 400, '110', 'mode');
    await ok('POST', '/topologies', { uuid: 'topo-o2', mode: 'simple_overlay' });
    await fails('POST', '/topologies/topo-o2/underlays/topo-vnet', {}, 400, '110', 'underlay_uuid');
    await fails('POST', '/topologies/topo-physical/datapaths/dp-3', {}, 400, '111', 'interface_uuid');
    await fails(
      'POST',
      '/topologies/topo-physical/datapaths/dp-3',
      { interface_uuid: 'if-dp1eth0' },
      400,
      '110',
      'interface_uuid',
    );
    await fails(
      'POST',
      '/topologies/topo-physical/datapaths/dp-3',
      { interface_uuid: 'if-dp3eth0', ip_lease_uuid: 'il-aaaa' },
      400,
      '125',
      'ip_lease_uuid',
    );
    await fails('POST', '/topologies/topo-vnet/networks/nw-vnet2', {}, 400, '112', 'network_uuid');
    await fails('POST', '/topologies/topo-vnet/networks/nw-nothere', {}, 404, '100', 'network_uuid');
    await fails('DELETE', '/topologies/topo-vnet/networks/nw-public1', {}, 404, '114');
    await fails('DELETE', '/interfaces/if-dp1eth0', {}, 409, '113');
  });

  it("a topology's mode changes in place while it has no member the new mode refuses", async () => {
    await ok('POST', '/topologies', { uuid: 'topo-m', mode: 'simple_overlay' });
    await ok('POST', '/topologies/topo-m/networks/nw-vnet1');
    assert.equal((await ok('PUT', '/topologies/topo-m', { mode: 'simple_overlay' })).mode, 'simple_overlay');
    assert.equal((await ok('PUT', '/topologies/topo-m', { mode: 'simple_underlay' })).mode, 'simple_underlay');
    assert.equal((await ok('GET', '/topologies/topo-m')).mode, 'simple_underlay');
    // An underlay that overlays ride stays one.
    await ok('POST', '/topologies', { uuid: 'topo-m2', mode: 'simple_overlay' });
    await ok('POST', '/topologies/topo-m2/underlays/topo-m');
    const ridden = await fails('PUT', '/topologies/topo-m', { mode: 'simple_overlay' }, 400, '110', 'mode');
    assert.match(ridden.message, /underlay of topo-m2/);
    await ok('DELETE', '/topologies/topo-m2');
    assert.equal((await ok('PUT', '/topologies/topo-m', { mode: 'simple_overlay' })).mode, 'simple_overlay');
    await ok('DELETE', '/topologies/topo-m');
  });

  it("a PUT that leaves the mode derives nothing: the rows are synced only when a topology's mode changed", async () => {
    // The kinds the store is asked to list while `fn` runs (a sync lists every derived row kind).
    async function kindsListed(fn: () => Promise<unknown>): Promise<Set<string>> {
      const listed = new Set<string>();
      const listing = (tx: StoreWriter) =>
        new Proxy(tx, {
          get(t, key) {
            if (key !== 'find') return Reflect.get(t, key);
            return (kind: string, ...rest: unknown[]) => {
              listed.add(kind);
              return Reflect.apply(t.find, t, [kind, ...rest]);
            };
          },
        });
      const real = s.store.write;
      const write = real.bind(s.store) as Store['write'];
      s.store.write = (f, afterCommit) => write((tx) => f(listing(tx)), afterCommit);
      try {
        await fn();
      } finally {
        s.store.write = real;
      }
      return listed;
    }
    await ok('POST', '/topologies', { uuid: 'topo-n', mode: 'simple_overlay' });
    const before = await rows('datapath_networks');
    const renamed = await kindsListed(() => ok('PUT', '/topologies/topo-n', { display_name: 'renamed' }));
    assert.equal((await ok('GET', '/topologies/topo-n')).display_name, 'renamed');
    assert.ok(!renamed.has('datapath_networks'), `a display_name PUT listed ${[...renamed].join(', ')}`);
    assert.deepEqual(await rows('datapath_networks'), before);
    const remoded = await kindsListed(() => ok('PUT', '/topologies/topo-n', { mode: 'simple_underlay' }));
    assert.ok(remoded.has('datapath_networks'), 'a mode change syncs the derived rows');
    await ok('DELETE', '/topologies/topo-n');
  });

  it('deleting the overlay withdraws everything it provisioned; the underlay keeps its own', async () => {
    await ok('DELETE', '/topologies/topo-vnet');
    const r = await rows('datapath_networks');
    for (const [k, v] of Object.entries(r)) assert.notEqual(v[0], 'topo-vnet', k);
    assert.equal(r['dp-1/nw-vnet1'], undefined);
    assert.equal(r['dp-1/nw-public1']?.[0], 'topo-physical');
    assert.equal((await rows('datapath_route_links'))['dp-1/rl-a'], undefined);
    // Recreated as event_nw_tp does: the rows come back.
    await ok('POST', '/topologies', { uuid: 'topo-vnet', mode: 'simple_overlay' });
    await ok('POST', '/topologies/topo-vnet/underlays/topo-physical');
    await ok('POST', '/topologies/topo-vnet/networks/nw-vnet1');
    assert.equal((await rows('datapath_networks'))['dp-2/nw-vnet1']?.[0], 'topo-vnet');
    // Deleting the underlay takes its datapaths' rows, its own and the overlay's.
    await ok('DELETE', '/topologies/topo-physical');
    assert.deepEqual(
      Object.values(await rows('datapath_networks')).filter((v) => v[0] !== null),
      [],
    );
    assert.deepEqual((await ok('GET', '/topologies/topo-vnet/underlays')).items, []);
  });

  it("vnctl drives them with OpenVNet's syntax (vnctl topologies <relation> add TOPO OTHER --options)", async () => {
    async function vnctl(line: string) {
      let out = '';
      let err = '';
      const env = { VNET_API: s.base, HOME: '/nonexistent' };
      const status = await runVnctl(line.split(' '), env, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
      return { status, out, err };
    }
    for (const line of [
      'topologies add --uuid topo-p2 --mode simple_underlay',
      'topologies add --uuid topo-v2 --mode simple_overlay',
      'topologies underlays add topo-v2 topo-p2',
      'topologies datapaths add topo-p2 dp-1 --interface-uuid if-dp1eth0',
      'topologies networks add topo-v2 nw-vnet2',
    ]) {
      const r = await vnctl(line);
      assert.equal(r.status, 0, `${line}: ${r.err}`);
    }
    const shown = await vnctl('topologies networks show topo-v2');
    assert.match(shown.out, /nw-vnet2/);
    const bad = await vnctl('topologies add --uuid topo-bad --mode overlay');
    assert.notEqual(bad.status, 0);
    assert.match(bad.err, /mode/);
    assert.equal((await vnctl('topologies networks del topo-v2 nw-vnet2')).status, 0);
    assert.equal((await vnctl('topologies del topo-v2')).status, 0);
  });
});
