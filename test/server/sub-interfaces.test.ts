// VLAN sub-interfaces through the API (parent_interface_uuid + vlan_tag): each its own interface with its own MAC,
// IP lease and network on its parent's port; what breaks the trunk is refused naming the field, and a parent goes
// only after its sub-interfaces (409).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fails, ok, startServer, type TestServer } from './helpers.js';

describe('VLAN sub-interfaces', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ listen: false });
    for (const [uuid, net] of [
      ['nw-trunk', '10.0.0.0'],
      ['nw-v10', '10.10.0.0'],
      ['nw-v20', '10.20.0.0'],
    ])
      await ok(s, 'POST', '/api/networks', { uuid, ipv4_network: net, ipv4_prefix: 24 });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-router',
      port_name: 'router-eth2',
      mac_address: '02:00:00:00:00:01',
      network_uuid: 'nw-trunk',
      ipv4_address: '10.0.0.1',
    });
    await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-a', dpid: '0x0000000000000001', node_id: 'a' });
  });
  after(() => s.close());

  it('a sub-interface is its own interface in its own network, its tag and parent read back and filter', async () => {
    const sub = await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-r10',
      parent_interface_uuid: 'if-router',
      vlan_tag: 10,
      mac_address: '02:00:00:00:10:01',
      network_uuid: 'nw-v10',
      ipv4_address: '10.10.0.1',
    });
    assert.equal(sub.parent_interface_uuid, 'if-router');
    assert.equal(sub.vlan_tag, 10);
    assert.equal(sub.mac_leases[0].ip_leases[0].network_uuid, 'nw-v10');
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-r20',
      parent_interface_uuid: 'if-router',
      vlan_tag: 20,
      mac_address: '02:00:00:00:20:01',
      network_uuid: 'nw-v20',
      ipv4_address: '10.20.0.1',
    });
    const subs = await ok(s, 'GET', '/api/interfaces', { parent_interface_uuid: 'if-router' });
    assert.deepEqual(subs.items.map((i: { uuid: string }) => i.uuid).sort(), ['if-r10', 'if-r20']);
    const parent = await ok(s, 'GET', '/api/interfaces/if-router');
    assert.equal(parent.parent_interface_uuid, null);
    assert.equal(parent.vlan_tag, null);
  });

  it('refuses what breaks the trunk, naming the field', async () => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-sim', mode: 'simulated' });
    const sub = { mac_address: '02:00:00:00:99:01', parent_interface_uuid: 'if-router', vlan_tag: 30 };
    // [method, path, params, status, code, field]: each refusal names its field.
    const refused: [string, string, Record<string, unknown>, number, string, string][] = [
      // One sub-interface per (parent, tag).
      ['POST', '/api/interfaces', { ...sub, vlan_tag: 10 }, 409, '120', 'vlan_tag'],
      // A tag only with a parent; a parent only with a tag; tags are 1–4094.
      ['POST', '/api/interfaces', { ...sub, parent_interface_uuid: undefined }, 400, '110', 'vlan_tag'],
      ['POST', '/api/interfaces', { ...sub, vlan_tag: undefined }, 400, '111', 'vlan_tag'],
      ['POST', '/api/interfaces', { ...sub, vlan_tag: 0 }, 400, '110', 'vlan_tag'],
      ['POST', '/api/interfaces', { ...sub, vlan_tag: 4095 }, 400, '110', 'vlan_tag'],
      // The parent exists, is a vif, and is no sub-interface itself.
      ['POST', '/api/interfaces', { ...sub, parent_interface_uuid: 'if-nothere' }, 404, '100', 'parent_interface_uuid'],
      ['POST', '/api/interfaces', { ...sub, parent_interface_uuid: 'if-sim' }, 400, '103', 'parent_interface_uuid'],
      ['POST', '/api/interfaces', { ...sub, parent_interface_uuid: 'if-r10' }, 400, '103', 'parent_interface_uuid'],
      // No port, datapath or segment of its own: it is bound where its parent is.
      ['POST', '/api/interfaces', { ...sub, port_name: 'tap9' }, 400, '110', 'port_name'],
      ['POST', '/api/interfaces', { ...sub, owner_datapath_uuid: 'dp-a' }, 400, '110', 'owner_datapath_uuid'],
      ['PUT', '/api/interfaces/if-r10', { port_name: 'tap9' }, 400, '110', 'port_name'],
      // Fixed at creation.
      ['PUT', '/api/interfaces/if-r10', { vlan_tag: 11 }, 400, '121', 'vlan_tag'],
      ['PUT', '/api/interfaces/if-r10', { parent_interface_uuid: null }, 400, '121', 'parent_interface_uuid'],
    ];
    for (const [method, path, params, status, code, field] of refused)
      await fails(s, method, path, JSON.parse(JSON.stringify(params)), status, code, field);
    // The parent stays a vif while it has sub-interfaces.
    await fails(s, 'PUT', '/api/interfaces/if-router', { mode: 'internal' }, 400, '110', 'mode');
    // Nothing of the refused requests was stored.
    const subs = await ok(s, 'GET', '/api/interfaces', { parent_interface_uuid: 'if-router' });
    assert.equal(subs.items.length, 2);
  });

  it('deleting a parent with sub-interfaces is a 409 naming them; without them it goes', async () => {
    const body = await fails(s, 'DELETE', '/api/interfaces/if-router', {}, 409, '113');
    assert.match(body.message, /if-r10/);
    assert.match(body.message, /if-r20/);
    await ok(s, 'DELETE', '/api/interfaces/if-r10');
    await ok(s, 'DELETE', '/api/interfaces/if-r20');
    await ok(s, 'DELETE', '/api/interfaces/if-router');
  });
});
