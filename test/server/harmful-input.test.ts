// Input that the API used to accept and that harms the dataplane (issue 23's list), each refused with a 4xx
// naming the field: group MACs that capture a network's broadcasts, a domain name DHCP cannot carry, networks
// and addresses in ranges nothing forwards, port names Linux cannot bind, duplicate routes, rule prefixes with
// host bits. Things that look similar but are fine stay accepted.
import { after, before, describe, it } from 'node:test';
import { fails, ok, startServer, type TestServer } from './helpers.js';

let s: TestServer;
before(async () => {
  s = await startServer();
  await ok(s, 'POST', '/api/networks', { uuid: 'nw-h', ipv4_network: '10.60.0.0', ipv4_prefix: 24 });
  await ok(s, 'POST', '/api/route_links', { uuid: 'rl-h' });
  await ok(s, 'POST', '/api/interfaces', {
    uuid: 'if-hr',
    mode: 'simulated',
    network_uuid: 'nw-h',
    ipv4_address: '10.60.0.1',
    mac_address: '02:00:60:00:00:01',
  });
});
after(() => s.close());

describe('refused, naming the field', () => {
  it('a broadcast, multicast or zero MAC for a VM (it would capture its network’s broadcasts)', async () => {
    for (const mac of ['ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01', '00:00:00:00:00:00'])
      await fails(s, 'POST', '/api/interfaces', { network_uuid: 'nw-h', mac_address: mac }, 400, '110', 'mac_address');
    await fails(
      s,
      'POST',
      '/api/mac_leases',
      { interface_uuid: 'if-hr', mac_address: '03:00:00:00:00:01' },
      400,
      '110',
      'mac_address',
    );
    await fails(s, 'POST', '/api/route_links', { mac_address: 'ff:ff:ff:ff:ff:ff' }, 400, '110', 'mac_address');
  });

  it('a domain name DHCP cannot carry (non-ASCII, spaces)', async () => {
    for (const domain_name of ['exämple.com', 'my domain', 'a..b'])
      await fails(s, 'POST', '/api/networks', { ipv4_network: '10.61.0.0', domain_name }, 400, '110', 'domain_name');
    await fails(s, 'PUT', '/api/networks/nw-h', { domain_name: 'ünïcode' }, 400, '110', 'domain_name');
  });

  it('networks and addresses in loopback, multicast, 0/8 and 240/4', async () => {
    for (const ipv4_network of ['224.0.0.0', '127.0.0.0', '0.0.0.0', '240.0.0.0'])
      await fails(s, 'POST', '/api/networks', { ipv4_network, ipv4_prefix: 8 }, 400, '110', 'ipv4_network');
    for (const ipv4_address of ['0.0.0.0', '255.255.255.255', '239.1.1.1', '127.0.0.1'])
      await fails(
        s,
        'POST',
        '/api/datapaths',
        { dpid: '0x77', node_id: 'x', ipv4_address },
        400,
        '110',
        'ipv4_address',
      );
    await fails(
      s,
      'POST',
      '/api/networks',
      { ipv4_network: '10.62.0.0', dns_servers: '8.8.8.8,224.0.0.251' },
      400,
      '110',
      'dns_servers',
    );
  });

  it('port names a Linux device cannot have', async () => {
    for (const port_name of ['a-very-long-port-name', 'tap/1', 'tap 1', '..', 'eth0:1'])
      await fails(s, 'POST', '/api/interfaces', { port_name }, 400, '110', 'port_name');
  });

  it('a second route to the same destination on the same route link', async () => {
    const route = { interface_uuid: 'if-hr', route_link_uuid: 'rl-h', ipv4_network: '192.168.70.0', ipv4_prefix: 24 };
    await ok(s, 'POST', '/api/routes', route);
    await fails(s, 'POST', '/api/routes', route, 409, '120', 'ipv4_network');
  });

  it('a rule or filter prefix with host bits set (ambiguous: a host, or the network?)', async () => {
    const sg = await ok(s, 'POST', '/api/security_groups', {});
    const body = await fails(
      s,
      'POST',
      `/api/security_groups/${sg.uuid}/rules`,
      { direction: 'ingress', protocol: 'tcp', remote_ip_prefix: '10.0.0.5/24' },
      400,
      '110',
      'remote_ip_prefix',
    );
    if (!String(body.message).includes('10.0.0.0/24')) throw new Error(`the message says the network: ${body.message}`);
  });
});

describe('bounded lists', () => {
  it('a security group holds at most 1000 rules (409, code 133): each rule write carries the whole group', async () => {
    const sg = await ok(s, 'POST', '/api/security_groups', {});
    for (let i = 0; i < 1000; i++)
      await ok(s, 'POST', `/api/security_groups/${sg.uuid}/rules`, {
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 1 + i,
        port_range_max: 1 + i,
      });
    const body = await fails(
      s,
      'POST',
      `/api/security_groups/${sg.uuid}/rules`,
      { direction: 'egress', protocol: 'icmp' },
      409,
      '133',
      'rules',
    );
    if (!String(body.message).includes('the limit is 1000')) throw new Error(body.message);
  });
});

describe('still accepted', () => {
  it('locally administered unicast MACs, IDNs in xn-- form, the default route, private and test ranges', async () => {
    await ok(s, 'POST', '/api/interfaces', { network_uuid: 'nw-h', mac_address: '02:ff:ff:ff:ff:fe' });
    await ok(s, 'PUT', '/api/networks/nw-h', { domain_name: 'xn--exmple-cua.com' });
    await ok(s, 'PUT', '/api/networks/nw-h', { domain_name: '' });
    await ok(s, 'POST', '/api/routes', {
      interface_uuid: 'if-hr',
      route_link_uuid: 'rl-h',
      ipv4_network: '0.0.0.0',
      ipv4_prefix: 0,
    });
    await ok(s, 'POST', '/api/networks', { ipv4_network: '198.51.100.0', ipv4_prefix: 24 });
    await ok(s, 'POST', '/api/datapaths', { dpid: '0x78', node_id: 'y', ipv4_address: '192.0.2.10' });
    await ok(s, 'POST', '/api/interfaces', { port_name: 'vnet0-abcdefghi' });
    const sg = await ok(s, 'POST', '/api/security_groups', {});
    await ok(s, 'POST', `/api/security_groups/${sg.uuid}/rules`, {
      direction: 'ingress',
      protocol: 'tcp',
      remote_ip_prefix: '10.0.0.5',
    });
  });
});
