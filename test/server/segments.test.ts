// Segments through the API: each gets a tunnel key and zone beside the networks'; what vnet does not do with them
// (networks on segments, an interface on a segment and a network) is refused naming the field; physical segments
// keep a VLAN tag no network or other segment has.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fails, ok, startServer, type TestServer } from './helpers.js';

describe('segments', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ listen: false });
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-a', ipv4_network: '10.0.0.0' });
    await ok(s, 'POST', '/api/segments', { uuid: 'seg-a', mode: 'virtual' });
    await ok(s, 'POST', '/api/segments', { uuid: 'seg-b' });
  });
  after(() => s.close());

  it('a segment gets a tunnel key and a zone no network or other segment has; both immutable', async () => {
    const nw = await ok(s, 'GET', '/api/networks/nw-a');
    const a = await ok(s, 'GET', '/api/segments/seg-a');
    const b = await ok(s, 'GET', '/api/segments/seg-b');
    assert.equal(b.mode, 'virtual');
    assert.equal(new Set([nw.tunnel_key, a.tunnel_key, b.tunnel_key]).size, 3);
    assert.equal(new Set([nw.ct_zone, a.ct_zone, b.ct_zone]).size, 3);
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-b', ipv4_network: '10.1.0.0' });
    const nb = await ok(s, 'GET', '/api/networks/nw-b');
    assert.ok(![a.tunnel_key, b.tunnel_key].includes(nb.tunnel_key), 'a later network skips the segments keys');
    for (const f of ['tunnel_key', 'ct_zone']) await fails(s, 'PUT', '/api/segments/seg-a', { [f]: 77 }, 400, '121', f);
  });

  it('physical segments are stored with their VLAN: only physical ones have one, one network or segment a tag', async () => {
    const p = await ok(s, 'POST', '/api/segments', { uuid: 'seg-p', mode: 'physical', vlan_id: 40 });
    assert.equal(p.vlan_id, 40);
    assert.equal((await ok(s, 'GET', '/api/segments/seg-b')).vlan_id, null);
    await fails(s, 'POST', '/api/segments', { uuid: 'seg-v', vlan_id: 41 }, 400, '110', 'vlan_id');
    await fails(s, 'PUT', '/api/segments/seg-p', { mode: 'virtual' }, 400, '110', 'vlan_id');
    await fails(s, 'POST', '/api/segments', { mode: 'physical', vlan_id: 40 }, 409, '120', 'vlan_id');
    await fails(
      s,
      'POST',
      '/api/networks',
      { ipv4_network: '10.9.0.0', network_mode: 'physical', vlan_id: 40 },
      409,
      '120',
      'vlan_id',
    );
    await ok(s, 'POST', '/api/networks', {
      uuid: 'nw-v42',
      ipv4_network: '10.9.0.0',
      network_mode: 'physical',
      vlan_id: 42,
    });
    await fails(s, 'PUT', '/api/segments/seg-p', { vlan_id: 42 }, 409, '120', 'vlan_id');
    // Flat (no tag), then virtual again.
    await ok(s, 'PUT', '/api/segments/seg-p', { vlan_id: null });
    assert.equal((await ok(s, 'PUT', '/api/segments/seg-p', { mode: 'virtual' })).mode, 'virtual');
    assert.equal((await ok(s, 'GET', '/api/segments', { vlan_id: 40 })).total_count, 0);
  });

  it('networks on segments are refused (NotSupported naming the field)', async () => {
    await fails(
      s,
      'POST',
      '/api/networks',
      { uuid: 'nw-s', ipv4_network: '10.2.0.0', segment_uuid: 'seg-a' },
      400,
      '125',
      'segment_uuid',
    );
    await fails(s, 'PUT', '/api/networks/nw-a', { segment_uuid: 'seg-a' }, 400, '125', 'segment_uuid');
    await ok(s, 'PUT', '/api/networks/nw-a', { segment_uuid: null });
  });

  it('a segment-only interface keeps its MAC lease on the segment, follows it, and takes no IP', async () => {
    const i = await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-s1',
      segment_uuid: 'seg-a',
      mac_address: '02:00:00:0a:00:01',
    });
    assert.equal(i.segment_uuid, 'seg-a');
    assert.equal(i.network_uuid, null);
    const leases = await ok(s, 'GET', '/api/mac_leases', { interface_uuid: 'if-s1' });
    assert.equal(leases.items[0].segment_uuid, 'seg-a');
    await ok(s, 'PUT', '/api/interfaces/if-s1', { segment_uuid: 'seg-b' });
    const moved = await ok(s, 'GET', '/api/mac_leases', { interface_uuid: 'if-s1' });
    assert.equal(moved.items[0].segment_uuid, 'seg-b');
    // An IP on it, by any route, is refused naming what the request gave.
    await fails(s, 'PUT', '/api/interfaces/if-s1', { network_uuid: 'nw-a' }, 400, '103', 'network_uuid');
    await fails(
      s,
      'PUT',
      '/api/interfaces/if-s1',
      { network_uuid: 'nw-a', ipv4_address: '10.0.0.5' },
      400,
      '103',
      'network_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/ip_leases',
      { network_uuid: 'nw-a', ipv4_address: '10.0.0.5', interface_uuid: 'if-s1' },
      400,
      '103',
      'interface_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/mac_leases',
      { interface_uuid: 'if-s1', mac_address: '02:00:00:0a:00:02', segment_uuid: 'seg-a' },
      400,
      '103',
      'segment_uuid',
    );
    // Nothing of the refused writes stayed.
    assert.equal((await ok(s, 'GET', '/api/ip_leases', { network_uuid: 'nw-a' })).items.length, 0);
    assert.equal((await ok(s, 'GET', '/api/mac_leases', { interface_uuid: 'if-s1' })).items.length, 1);
  });

  it('an interface on a network and a segment is refused as OpenVNet did (InvalidID, segment_uuid)', async () => {
    await fails(
      s,
      'POST',
      '/api/interfaces',
      { segment_uuid: 'seg-a', network_uuid: 'nw-a', ipv4_address: '10.0.0.6', mac_address: '02:00:00:0a:00:06' },
      400,
      '103',
      'segment_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/interfaces',
      { segment_uuid: 'seg-a', network_uuid: 'nw-a' },
      400,
      '103',
      'segment_uuid',
    );
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-n1',
      network_uuid: 'nw-a',
      ipv4_address: '10.0.0.7',
      mac_address: '02:00:00:0a:00:07',
    });
    await fails(s, 'PUT', '/api/interfaces/if-n1', { segment_uuid: 'seg-a' }, 400, '103', 'segment_uuid');
    await fails(
      s,
      'POST',
      '/api/mac_leases',
      { interface_uuid: 'if-n1', mac_address: '02:00:00:0a:00:08', segment_uuid: 'seg-a' },
      400,
      '103',
      'segment_uuid',
    );
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-n1')).segment_uuid, null);
  });

  it('only interfaces bound to a VM port may be on a segment', async () => {
    for (const mode of ['simulated', 'host', 'remote', 'patch'])
      await fails(s, 'POST', '/api/interfaces', { mode, segment_uuid: 'seg-a' }, 400, '125', 'segment_uuid');
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-s2', mode: 'internal', segment_uuid: 'seg-a' });
    await fails(s, 'PUT', '/api/interfaces/if-s2', { mode: 'simulated' }, 400, '125', 'mode');
  });

  it('datapath_segments rows are kept (they place nothing: a segment is where its interfaces are bound)', async () => {
    await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-a', dpid: '0xa', node_id: 'a' });
    const row = await ok(s, 'POST', '/api/datapaths/dp-a/segments/seg-a', { mac_address: '02:00:00:aa:00:01' });
    assert.equal(row.segment_uuid, 'seg-a');
  });
});
