// Relations and sub-items through HTTP: datapath networks/route links, ports, security groups and rules,
// filter statics, static addresses, ranges, DNS records, agent reports, and delete cascades / 409s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, fails, ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startServer({ listen: false });
  await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-1', dpid: '0x1', node_id: 'h1' });
  await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-2', dpid: '0x2', node_id: 'h2' });
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-1', ipv4_network: '10.1.0.0' });
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-2', ipv4_network: '10.2.0.0' });
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-h1',
    mode: 'host',
    owner_datapath_uuid: 'dp-1',
    port_name: 'eth0',
  });
  await ok(s, 'POST', '/api/route_links', { uuid: 'rl-1', mac_address: '02:00:00:00:11:11' });
});
after(async () => {
  await s.close();
});

/** Changes after `since`, read straight from the store's change log. */
async function changesAfter(since: number) {
  return (await s.store.changesSince(since, 10000)).changes;
}
const rev = async () => (await s.store.changesSince(0, 1)).current;

describe('datapath relations', () => {
  it('networks: add (interface optional), show, list, update, conflict, delete', async () => {
    const r = await ok(
      s,
      'POST',
      '/api/datapaths/dp-1/networks/nw-1',
      { broadcast_mac_address: '08:00:27:10:03:01' },
      'form',
    );
    assert.deepEqual(
      { ...r, created_at: undefined, updated_at: undefined },
      {
        uuid: 'dp-1/nw-1',
        datapath_uuid: 'dp-1',
        network_uuid: 'nw-1',
        interface_uuid: null,
        mac_address: null,
        broadcast_mac_address: '08:00:27:10:03:01',
        gateway_priority: null,
        topology_uuid: null,
        created_at: undefined,
        updated_at: undefined,
      },
    );
    await fails(s, 'POST', '/api/datapaths/dp-1/networks/nw-1', {}, 400, '112');
    await ok(s, 'POST', '/api/1.0/datapaths/dp-1/networks/nw-2.json', {
      interface_uuid: 'if-h1',
      mac_address: '02:00:00:aa:00:01',
      network_uuid: 'nw-2',
    });
    await fails(s, 'POST', '/api/datapaths/dp-2/networks/nw-2', { network_uuid: 'nw-1' }, 400, '110', 'network_uuid');
    await fails(
      s,
      'POST',
      '/api/datapaths/dp-2/networks/nw-2',
      { route_link_uuid: 'rl-1' },
      400,
      '110',
      'route_link_uuid',
    );
    await fails(s, 'POST', '/api/datapaths/dp-2/networks/nw-9', {}, 404, '100', 'network_uuid');
    await fails(s, 'POST', '/api/datapaths/dp-9/networks/nw-1', {}, 404, '100');
    await fails(
      s,
      'POST',
      '/api/datapaths/dp-2/networks/nw-2',
      { interface_uuid: 'if-none' },
      404,
      '100',
      'interface_uuid',
    );
    await fails(s, 'POST', '/api/datapaths/dp-2/networks/NW', {}, 400, '101', 'network_uuid');
    const list = await ok(s, 'GET', '/api/datapaths/dp-1/networks');
    assert.equal(list.total_count, 2);
    assert.deepEqual(
      list.items.map((x: any) => x.network_uuid),
      ['nw-1', 'nw-2'],
    );
    const shown = await ok(s, 'GET', '/api/datapaths/dp-1/networks/nw-2');
    assert.equal(shown.interface_uuid, 'if-h1');
    const upd = await ok(s, 'PUT', '/api/datapaths/dp-1/networks/nw-2', { interface_uuid: null });
    assert.equal(upd.interface_uuid, null);
    assert.deepEqual(await ok(s, 'DELETE', '/api/datapaths/dp-1/networks/nw-2'), ['nw-2']);
    await fails(s, 'DELETE', '/api/datapaths/dp-1/networks/nw-2', {}, 404, '100');
  });

  it('route_links: path-repeating body param accepted when equal', async () => {
    const r = await ok(s, 'POST', '/api/datapaths/dp-1/route_links/rl-1', {
      route_link_uuid: 'rl-1',
      mac_address: '08:00:27:20:01:01',
    });
    assert.equal(r.uuid, 'dp-1/rl-1');
    assert.equal(r.mac_address, '08:00:27:20:01:01');
    assert.equal((await ok(s, 'GET', '/api/datapaths/dp-1/route_links')).total_count, 1);
    await fails(
      s,
      'POST',
      '/api/datapaths/dp-2/route_links/rl-1',
      { broadcast_mac_address: '08:00:27:20:01:01' },
      400,
      '110',
      'broadcast_mac_address',
    );
  });
});

describe('interface ports and security groups', () => {
  it('ports', async () => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-p' });
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-p/ports')).total_count, 0);
    const p = await ok(s, 'POST', '/api/interfaces/if-p/ports', { datapath_uuid: 'dp-2', port_name: 'tap7' });
    assert.equal(p.datapath_uuid, 'dp-2');
    const i = await ok(s, 'GET', '/api/interfaces/if-p');
    assert.equal(i.owner_datapath_uuid, 'dp-2');
    assert.equal(i.port_name, 'tap7');
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-p/ports')).total_count, 1);
    await fails(s, 'DELETE', '/api/interfaces/if-p/ports', { port_name: 'tap8' }, 404, '114');
    const gone = await ok(s, 'DELETE', '/api/interfaces/if-p/ports', { port_name: 'tap7' });
    assert.equal(gone.length, 1);
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-p')).port_name, null);
  });

  it('membership and rules', async () => {
    await ok(s, 'POST', '/api/security_groups', { uuid: 'sg-web', display_name: 'web' });
    await ok(s, 'POST', '/api/security_groups', { uuid: 'sg-db', display_name: 'db' });
    const rule = await ok(s, 'POST', '/api/security_groups/sg-web/rules', {
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 80,
      port_range_max: 443,
      remote_ip_prefix: '0.0.0.0/0',
    });
    assert.match(rule.uuid, /^sgr-/);
    await ok(s, 'POST', '/api/security_groups/sg-db/rules', {
      uuid: 'sgr-dbin',
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 5432,
      remote_group_uuid: 'sg-web',
    });
    const db = await ok(s, 'GET', '/api/security_groups/sg-db');
    assert.deepEqual(db.rules, [
      {
        uuid: 'sgr-dbin',
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 5432,
        port_range_max: 5432,
        remote_ip_prefix: null,
        remote_group_uuid: 'sg-web',
      },
    ]);
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { uuid: 'sgr-dbin', direction: 'ingress', protocol: 'any' },
      400,
      '112',
      'uuid',
    );
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { direction: 'sideways', protocol: 'tcp' },
      400,
      '110',
      'direction',
    );
    await fails(s, 'POST', '/api/security_groups/sg-db/rules', { direction: 'ingress' }, 400, '111', 'protocol');
    // The same rule again (port_range_max defaults to the min, as stored): 409 naming the rule that exists.
    const dup = await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      {
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 5432,
        port_range_max: 5432,
        remote_group_uuid: 'sg-web',
      },
      409,
      '120',
      'rule',
    );
    assert.match(JSON.stringify(dup), /sgr-dbin/);
    // Ports only for tcp/udp; for icmp the two fields are its type and code (0-255, a code needs its type).
    for (const [rule, field] of [
      [{ protocol: 'any', port_range_min: 1 }, 'port_range_min'],
      [{ protocol: '47', port_range_min: 1 }, 'port_range_min'],
      [{ protocol: 'icmp', port_range_min: 256 }, 'port_range_min'],
      [{ protocol: 'icmp', port_range_min: 3, port_range_max: 300 }, 'port_range_max'],
      [{ protocol: 'icmp', port_range_max: 1 }, 'port_range_max'],
      [{ protocol: '256' }, 'protocol'],
      [{ protocol: 'gre' }, 'protocol'],
    ] as const)
      await fails(s, 'POST', '/api/security_groups/sg-db/rules', { direction: 'ingress', ...rule }, 400, '110', field);
    const echo = await ok(s, 'POST', '/api/security_groups/sg-db/rules', {
      direction: 'ingress',
      protocol: 'icmp',
      port_range_min: 8,
    });
    assert.equal(echo.port_range_max, null, 'an ICMP type alone: any code');
    await ok(s, 'DELETE', `/api/security_groups/sg-db/rules/${echo.uuid}`);
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { direction: 'ingress', protocol: 'tcp', port_range_min: 9, port_range_max: 8 },
      400,
      '110',
      'port_range_min',
    );
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { direction: 'ingress', protocol: 'tcp', remote_ip_prefix: '10.0.0.0/33' },
      400,
      '110',
      'remote_ip_prefix',
    );
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { direction: 'ingress', protocol: 'tcp', remote_group_uuid: 'sg-nope' },
      404,
      '100',
      'remote_group_uuid',
    );
    await fails(
      s,
      'POST',
      '/api/security_groups/sg-db/rules',
      { direction: 'ingress', protocol: 'tcp', remote_group_uuid: 'sg-web', remote_ip_prefix: '1.2.3.4/32' },
      400,
      '110',
      'remote_group_uuid',
    );
    assert.equal((await ok(s, 'GET', '/api/security_groups/sg-db/rules')).total_count, 1);
    assert.equal((await ok(s, 'GET', '/api/security_groups/sg-db/rules/sgr-dbin')).port_range_min, 5432);

    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-sg' });
    const m = await ok(s, 'PUT', '/api/interfaces/if-sg/security_groups/sg-web');
    assert.deepEqual(m.security_group_uuids, ['sg-web']);
    await ok(s, 'PUT', '/api/interfaces/if-sg/security_groups/sg-web'); // idempotent
    await ok(s, 'PUT', '/api/interfaces/if-sg/security_groups/sg-db');
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-sg')).security_group_uuids, ['sg-web', 'sg-db']);
    assert.equal((await ok(s, 'GET', '/api/interfaces/if-sg/security_groups')).total_count, 2);
    await fails(s, 'PUT', '/api/interfaces/if-sg/security_groups/sg-none', {}, 404, '100');
    assert.deepEqual(await ok(s, 'DELETE', '/api/interfaces/if-sg/security_groups/sg-db'), ['sg-db']);
    await fails(s, 'DELETE', '/api/interfaces/if-sg/security_groups/sg-db', {}, 404, '114');

    // sg-web is named by sg-db's rule: refused with the dependent named.
    const body = await fails(s, 'DELETE', '/api/security_groups/sg-web', {}, 409, '113');
    assert.match(body.message, /sg-db/);
    assert.deepEqual(await ok(s, 'DELETE', '/api/security_groups/sg-db/rules/sgr-dbin'), ['sgr-dbin']);
    await fails(s, 'DELETE', '/api/security_groups/sg-db/rules/sgr-dbin', {}, 404, '100');
    // Now it cascades: membership is removed and the interface is re-announced.
    const r0 = await rev();
    await ok(s, 'DELETE', '/api/security_groups/sg-web');
    assert.deepEqual((await ok(s, 'GET', '/api/interfaces/if-sg')).security_group_uuids, []);
    const ch = await changesAfter(r0);
    assert.deepEqual(
      ch.map((c) => `${c.resource}:${c.uuid}:${c.op}`),
      ['interfaces:if-sg:upsert', 'security_groups:sg-web:delete'],
    );
  });
});

describe('sub-items', () => {
  it('filter statics', async () => {
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-f' });
    await ok(s, 'POST', '/api/filters', { uuid: 'fil-1', interface_uuid: 'if-f', mode: 'static' });
    const st = await ok(s, 'POST', '/api/filters/fil-1/static', {
      protocol: 'tcp',
      action: 'pass',
      dst_port: 22,
      src_address: '10.0.0.0/8',
    });
    assert.deepEqual(st, {
      protocol: 'tcp',
      action: 'pass',
      src_address: '10.0.0.0/8',
      dst_address: '0.0.0.0/0',
      src_port: 0,
      dst_port: 22,
    });
    await ok(s, 'POST', '/api/filters/fil-1/static', { protocol: 'icmp', action: 'drop' });
    await fails(s, 'POST', '/api/filters/fil-1/static', { protocol: 'icmp', action: 'drop' }, 400, '112');
    await fails(
      s,
      'POST',
      '/api/filters/fil-1/static',
      { protocol: 'icmp', action: 'drop', dst_port: 5 },
      400,
      '110',
      'dst_port',
    );
    await fails(s, 'POST', '/api/filters/fil-1/static', { protocol: 'tcp' }, 400, '110', 'action');
    await fails(s, 'POST', '/api/filters/fil-1/static', { protocol: 'sctp', action: 'pass' }, 400, '110', 'protocol');
    await fails(
      s,
      'POST',
      '/api/filters/fil-1/static',
      { protocol: 'ip', action: 'pass', src_address: '1.2.3.4/40' },
      400,
      '110',
      'src_address',
    );
    assert.equal((await ok(s, 'GET', '/api/filters/fil-1')).statics.length, 2);
    assert.equal((await ok(s, 'GET', '/api/filters/fil-1/static')).total_count, 2);
    await fails(s, 'DELETE', '/api/filters/fil-1/static', { protocol: 'udp' }, 404, '114');
    await ok(s, 'DELETE', '/api/filters/fil-1/static', { protocol: 'tcp', dst_port: 22, src_address: '10.0.0.0/8' });
    assert.deepEqual(
      (await ok(s, 'GET', '/api/filters/fil-1')).statics.map((x: any) => x.protocol),
      ['icmp'],
    );
  });

  it('translation static addresses', async () => {
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-1', interface_uuid: 'if-f' });
    const a = await ok(s, 'POST', '/api/translations/tr-1/static_address', {
      ingress_ipv4_address: '10.1.0.5',
      egress_ipv4_address: '192.0.2.5',
      route_link_uuid: 'rl-1',
    });
    assert.equal(a.route_link_uuid, 'rl-1');
    await fails(
      s,
      'POST',
      '/api/translations/tr-1/static_address',
      { ingress_ipv4_address: '10.1.0.6', egress_ipv4_address: '192.0.2.6', ingress_port_number: 80 },
      400,
      '110',
      'ingress_port_number',
    );
    await fails(
      s,
      'POST',
      '/api/translations/tr-1/static_address',
      { ingress_ipv4_address: '10.1.0.6' },
      400,
      '111',
      'egress_ipv4_address',
    );
    assert.equal((await ok(s, 'GET', '/api/translations/tr-1/static_address')).total_count, 1);
    // One outside address is one floating IP: a second translation may not claim it (409 naming the field).
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-2', interface_uuid: 'if-f' });
    await fails(
      s,
      'POST',
      '/api/translations/tr-2/static_address',
      { ingress_ipv4_address: '10.1.0.7', egress_ipv4_address: '192.0.2.5' },
      409,
      '120',
      'egress_ipv4_address',
    );
    await ok(s, 'DELETE', '/api/translations/tr-2');
    assert.deepEqual(
      await ok(s, 'DELETE', '/api/translations/tr-1/static_address', {
        ingress_ipv4_address: '10.1.0.5',
        egress_ipv4_address: '192.0.2.5',
      }),
      { uuid: 'tr-1' },
    );
    await fails(
      s,
      'DELETE',
      '/api/translations/tr-1/static_address',
      { ingress_ipv4_address: '10.1.0.5', egress_ipv4_address: '192.0.2.5' },
      404,
      '114',
    );
  });

  it('static addresses: port translations and the two forms, refused by the field at fault', async () => {
    const sa = (tr: string) => `/api/translations/${tr}/static_address`;
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-out', ipv4_network: '198.51.100.0', network_mode: 'physical' });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-vm9',
      mode: 'vif',
      network_uuid: 'nw-1',
      mac_address: '02:00:00:00:09:09',
      ipv4_address: '10.1.0.9',
    });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-vm8',
      mode: 'vif',
      network_uuid: 'nw-1',
      mac_address: '02:00:00:00:09:08',
      ipv4_address: '10.1.0.8',
    });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-outgw',
      mode: 'simulated',
      network_uuid: 'nw-out',
      enable_routing: true,
      mac_address: '02:00:00:00:09:fe',
    });
    // vnet's form on the VM: ingress its address, egress the outside one; ports both or neither, 1–65535.
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-vm9', interface_uuid: 'if-vm9' });
    const addr = (ingress: string, egress: string) => ({ ingress_ipv4_address: ingress, egress_ipv4_address: egress });
    const ports = (ingress: number, egress: number) => ({ ingress_port_number: ingress, egress_port_number: egress });
    const port = addr('10.1.0.9', '198.51.100.9');
    await ok(s, 'POST', sa('tr-vm9'), { ...port, ...ports(80, 8080) });
    await ok(s, 'POST', sa('tr-vm9'), { ...port, ...ports(53, 5353) });
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-vm8', interface_uuid: 'if-vm8' });
    // OpenVNet's form on the physical network's router interface: ingress outside (in that network), egress inside.
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-gw', interface_uuid: 'if-outgw' });
    await ok(s, 'POST', sa('tr-gw'), addr('198.51.100.8', '10.1.0.8'));
    // [translation, entry, status, code, field]: each refusal names the field at fault.
    const refused: [string, Record<string, unknown>, number, string, string][] = [
      ['tr-vm9', { ...port, ...ports(0, 81) }, 400, '110', 'ingress_port_number'],
      ['tr-vm9', { ...port, ...ports(81, 65536) }, 400, '110', 'egress_port_number'],
      ['tr-vm9', { ...port, egress_port_number: 9090 }, 400, '110', 'ingress_port_number'],
      // The same outside address and port twice (an entry is TCP and UDP both): 409 naming the outside port.
      ['tr-vm9', { ...port, ...ports(22, 8080) }, 409, '120', 'egress_port_number'],
      // The whole address where ports of it are translated, and one outside address for two VMs: refused.
      ['tr-vm9', port, 409, '120', 'egress_ipv4_address'],
      ['tr-vm8', { ...addr('10.1.0.8', '198.51.100.9'), ...ports(22, 2222) }, 400, '110', 'egress_ipv4_address'],
      // OpenVNet's direction on a VM's interface (ingress the outside address, egress its own) is ambiguous: refused.
      ['tr-vm8', addr('198.51.100.8', '10.1.0.8'), 400, '110', 'ingress_ipv4_address'],
      // On the router interface the inside address is egress.
      ['tr-gw', addr('10.1.0.8', '198.51.100.7'), 400, '110', 'ingress_ipv4_address'],
      // Its outside side is ingress: the same outside port as the VM form's entry collides by that field.
      ['tr-gw', { ...addr('198.51.100.9', '10.1.0.9'), ...ports(8080, 81) }, 409, '120', 'ingress_port_number'],
      ['tr-gw', addr('198.51.100.8', '10.1.0.9'), 400, '103', 'ingress_ipv4_address'],
    ];
    for (const [tr, entry, status, code, field] of refused) await fails(s, 'POST', sa(tr), entry, status, code, field);
    for (const t of ['tr-vm9', 'tr-vm8', 'tr-gw']) await ok(s, 'DELETE', `/api/translations/${t}`);
  });

  it('ip ranges, mac ranges (and MAC allocation from a group), dns records', async () => {
    await ok(s, 'POST', '/api/ip_range_groups', { uuid: 'iprg-1' });
    const r = await ok(s, 'POST', '/api/ip_range_groups/iprg-1/ip_ranges', {
      begin_ipv4_address: '10.1.0.10',
      end_ipv4_address: '10.1.0.20',
    });
    assert.match(r.uuid, /^ipr-/);
    await fails(
      s,
      'POST',
      '/api/ip_range_groups/iprg-1/ip_ranges',
      { begin_ipv4_address: '10.1.0.30', end_ipv4_address: '10.1.0.20' },
      400,
      '110',
      'begin_ipv4_address',
    );
    assert.deepEqual(await ok(s, 'DELETE', `/api/ip_range_groups/iprg-1/ip_ranges/${r.uuid}`), [r.uuid]);

    await ok(s, 'POST', '/api/mac_range_groups', { uuid: 'mrg-dpg' });
    await ok(s, 'POST', '/api/mac_range_groups/mrg-dpg/mac_ranges', {
      uuid: 'mr-1',
      begin_mac_address: '52:56:01:00:00:00',
      end_mac_address: '52:56:01:00:00:01',
    });
    const i1 = await ok(s, 'POST', '/api/interfaces', { mac_range_group_uuid: 'mrg-dpg' });
    const i2 = await ok(s, 'POST', '/api/interfaces', { mac_range_group_uuid: 'mrg-dpg' });
    assert.deepEqual([i1.mac_address, i2.mac_address], ['52:56:01:00:00:00', '52:56:01:00:00:01']);
    await fails(s, 'POST', '/api/interfaces', { mac_range_group_uuid: 'mrg-dpg' }, 400, '110', 'mac_range_group_uuid');
    assert.equal((await ok(s, 'GET', '/api/mac_range_groups/mrg-dpg/mac_ranges')).total_count, 1);

    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-dns', mode: 'simulated' });
    await ok(s, 'POST', '/api/network_services', { uuid: 'ns-dns', mode: 'dns', interface_uuid: 'if-dns' });
    await ok(s, 'POST', '/api/dns_services', {
      uuid: 'dnss-1',
      network_service_uuid: 'ns-dns',
      public_dns: '8.8.8.8,8.8.4.4',
    });
    const rec = await ok(s, 'POST', '/api/dns_services/dnss-1/dns_records', {
      uuid: 'dnsr-www',
      name: 'www.example',
      ipv4_address: '10.1.0.5',
    });
    assert.equal(rec.name, 'www.example');
    await fails(
      s,
      'POST',
      '/api/dns_services/dnss-1/dns_records',
      { name: 'bad name!', ipv4_address: '10.1.0.5' },
      400,
      '110',
      'name',
    );
    assert.equal((await ok(s, 'GET', '/api/dns_services/dnss-1')).dns_records.length, 1);
    // Deleting the simulated interface cascades to its network service and the DNS service on it.
    await ok(s, 'DELETE', '/api/interfaces/if-dns');
    await fails(s, 'GET', '/api/network_services/ns-dns', {}, 404, '100');
    await fails(s, 'GET', '/api/dns_services/dnss-1', {}, 404, '100');
  });
});

describe('agent reports', () => {
  it('translation status: where its floating addresses are active, and back to nowhere', async () => {
    await ok(s, 'POST', '/api/translations', { uuid: 'tr-st', interface_uuid: 'if-f' });
    assert.equal((await ok(s, 'GET', '/api/translations/tr-st')).active_datapath_uuid, null);
    const t = await ok(s, 'PUT', '/api/translations/tr-st/status', { active_datapath_uuid: 'dp-2' });
    assert.equal(t.active_datapath_uuid, 'dp-2');
    await fails(
      s,
      'PUT',
      '/api/translations/tr-st/status',
      { active_datapath_uuid: 'dp-nope' },
      404,
      '100',
      'active_datapath_uuid',
    );
    await fails(s, 'PUT', '/api/translations/tr-st/status', { active_datapath_uuid: 'dp-2', x: 1 }, 400, '110', 'x');
    // Reported, never set by users: a PUT of the translation naming it is refused as immutable.
    await fails(
      s,
      'PUT',
      '/api/translations/tr-st',
      { active_datapath_uuid: 'dp-1' },
      400,
      '121',
      'active_datapath_uuid',
    );
    assert.equal(
      (await ok(s, 'PUT', '/api/translations/tr-st/status', { active_datapath_uuid: null })).active_datapath_uuid,
      null,
    );
    await ok(s, 'DELETE', '/api/translations/tr-st');
  });

  it('datapath status and interface binding', async () => {
    const d = await ok(s, 'PUT', '/api/1.0/datapaths/dp-2/status', {
      is_connected: true,
      flows_in_sync: false,
      last_error: 'table full',
      reported_node_id: 'h2',
      ipv4_address: '192.168.50.2',
    });
    assert.equal(d.is_connected, true);
    assert.equal(d.last_error, 'table full');
    assert.equal(d.ipv4_address, '192.168.50.2');
    assert.equal(d.reported_node_id, 'h2');
    assert.equal(d.encap, null, 'no encapsulation reported yet: senders use GRE');
    const v = await ok(s, 'PUT', '/api/1.0/datapaths/dp-2/status', {
      is_connected: true,
      flows_in_sync: true,
      reported_node_id: 'h2',
      encap: 'vxlan',
    });
    assert.equal(v.encap, 'vxlan', 'the agent --encap is stored for the senders');
    await fails(
      s,
      'PUT',
      '/api/1.0/datapaths/dp-2/status',
      { is_connected: true, flows_in_sync: true, reported_node_id: 'h2', encap: 'geneve' },
      400,
      '110',
      'encap',
    );
    await fails(s, 'PUT', '/api/1.0/datapaths/dp-2/status', { is_connected: true }, 400, '111', 'flows_in_sync');
    await fails(
      s,
      'PUT',
      '/api/1.0/datapaths/dp-2/status',
      { is_connected: 'yes please', flows_in_sync: true, reported_node_id: 'x' },
      400,
      '110',
      'is_connected',
    );
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-b' });
    const b = await ok(s, 'PUT', '/api/1.0/interfaces/if-b/binding', {
      status: 'up',
      active_datapath_uuid: 'dp-2',
      active_port_name: 'tap1',
    });
    assert.equal(b.status, 'up');
    assert.equal(b.active_port_name, 'tap1');
    await fails(s, 'PUT', '/api/1.0/interfaces/if-b/binding', { status: 'sideways' }, 400, '110', 'status');
    await fails(
      s,
      'PUT',
      '/api/1.0/interfaces/if-b/binding',
      { status: 'up', active_datapath_uuid: 'dp-77' },
      404,
      '100',
      'active_datapath_uuid',
    );
  });
});

describe('delete cascades and restrictions', () => {
  it("datapath delete cascades: its rows go, interfaces it owned lose their port there; its dpid comes back as a new datapath (OpenVNet's event spec)", async () => {
    const r0 = await rev();
    await ok(s, 'DELETE', '/api/datapaths/dp-1');
    const h1 = await ok(s, 'GET', '/api/interfaces/if-h1');
    assert.equal(h1.owner_datapath_uuid, null);
    assert.equal(h1.port_name, null);
    assert.equal(h1.mode, 'host', 'the interface itself stays');
    assert.equal((await call(s, 'GET', '/api/datapaths/dp-1/networks/nw-1')).status, 404);
    const ch = (await changesAfter(r0)).map((c) => `${c.resource}:${c.uuid}:${c.op}`);
    assert.ok(ch.includes('datapath_networks:dp-1/nw-1:delete'), ch.join(' '));
    assert.ok(ch.includes('datapath_route_links:dp-1/rl-1:delete'), ch.join(' '));
    assert.equal(ch.at(-1), 'datapaths:dp-1:delete');
    // The event spec's second half: the same dpid as dp-new, its network rows, the host interface's port on it.
    await ok(s, 'POST', '/api/datapaths', { uuid: 'dp-new', dpid: '0x1', node_id: 'h1', display_name: 'node1' });
    await ok(s, 'POST', '/api/datapaths/dp-new/networks/nw-1', {
      interface_uuid: 'if-h1',
      mac_address: '02:00:00:aa:00:01',
    });
    await ok(s, 'POST', '/api/interfaces/if-h1/ports', { datapath_uuid: 'dp-new', port_name: 'eth0', singular: true });
    const again = await ok(s, 'GET', '/api/interfaces/if-h1');
    assert.equal(again.owner_datapath_uuid, 'dp-new');
    assert.equal(again.port_name, 'eth0');
  });

  it('network delete cascades leases (interfaces re-announced), routes and datapath rows', async () => {
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-c', ipv4_network: '10.77.0.0' });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-c',
      network_uuid: 'nw-c',
      ipv4_address: '10.77.0.2',
      mac_address: '02:00:00:77:00:02',
    });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-cgw',
      mode: 'simulated',
      network_uuid: 'nw-c',
      ipv4_address: '10.77.0.1',
      mac_address: '02:00:00:77:00:01',
    });
    const route = await ok(s, 'POST', '/api/routes', {
      interface_uuid: 'if-cgw',
      route_link_uuid: 'rl-1',
      ipv4_network: '10.77.0.0',
    });
    await ok(s, 'POST', '/api/datapaths/dp-2/networks/nw-c');
    const r0 = await rev();
    await ok(s, 'DELETE', '/api/networks/nw-c');
    const i = await ok(s, 'GET', '/api/interfaces/if-c');
    assert.equal(i.ipv4_address, null);
    assert.equal(i.mac_address, '02:00:00:77:00:02');
    await fails(s, 'GET', `/api/routes/${route.uuid}`, {}, 404, '100');
    const ch = (await changesAfter(r0)).map((c) => `${c.resource}:${c.uuid}:${c.op}`);
    for (const want of [
      'datapath_networks:dp-2/nw-c:delete',
      `routes:${route.uuid}:delete`,
      'interfaces:if-c:upsert',
      'interfaces:if-cgw:upsert',
      'networks:nw-c:delete',
    ])
      assert.ok(ch.includes(want), `${want} in ${ch.join(' ')}`);
    // Embedding objects come after what they embed; revisions are consecutive.
    const all = await changesAfter(r0);
    for (const [k, c] of all.entries()) assert.equal(c.revision, r0 + 1 + k);
    assert.ok(ch.indexOf('interfaces:if-c:upsert') > ch.findIndex((x) => x.startsWith('ip_leases:')));
  });

  it('segment in use is refused; route link delete cascades routes', async () => {
    await ok(s, 'POST', '/api/segments', { uuid: 'seg-1' });
    await ok(s, 'POST', '/api/interfaces', { uuid: 'if-s', segment_uuid: 'seg-1', mac_address: '02:00:00:88:00:09' });
    const body = await fails(s, 'DELETE', '/api/segments/seg-1', {}, 409, '113');
    assert.match(body.message, /if-s/);
    await ok(s, 'POST', '/api/networks', { uuid: 'nw-s', ipv4_network: '10.88.0.0' });
    await ok(s, 'POST', '/api/route_links', { uuid: 'rl-2' });
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-r',
      mode: 'simulated',
      network_uuid: 'nw-s',
      ipv4_address: '10.88.0.1',
      mac_address: '02:00:00:88:00:01',
    });
    const route = await ok(s, 'POST', '/api/routes', {
      interface_uuid: 'if-r',
      route_link_uuid: 'rl-2',
      ipv4_network: '10.88.0.0',
    });
    await ok(s, 'DELETE', '/api/route_links/rl-2');
    await fails(s, 'GET', `/api/routes/${route.uuid}`, {}, 404, '100');
  });

  it('interface delete cascades leases, filters, translations, routes', async () => {
    await ok(s, 'POST', '/api/interfaces', {
      uuid: 'if-d',
      mode: 'simulated',
      network_uuid: 'nw-1',
      ipv4_address: '10.1.0.99',
      mac_address: '02:00:00:99:00:01',
    });
    await ok(s, 'POST', '/api/filters', { uuid: 'fil-d', interface_uuid: 'if-d' });
    await ok(s, 'POST', '/api/routes', {
      uuid: 'r-d',
      interface_uuid: 'if-d',
      route_link_uuid: 'rl-1',
      ipv4_network: '10.1.0.0',
    });
    const ml = (await ok(s, 'GET', '/api/interfaces/if-d')).mac_leases[0];
    await ok(s, 'DELETE', '/api/interfaces/if-d');
    for (const p of [
      '/api/filters/fil-d',
      '/api/routes/r-d',
      `/api/mac_leases/${ml.uuid}`,
      `/api/ip_leases/${ml.ip_leases[0].uuid}`,
    ])
      assert.equal((await call(s, 'GET', p)).status, 404, p);
    // The address is free again.
    await ok(s, 'POST', '/api/interfaces', {
      network_uuid: 'nw-1',
      ipv4_address: '10.1.0.99',
      mac_address: '02:00:00:99:00:01',
    });
  });
});
