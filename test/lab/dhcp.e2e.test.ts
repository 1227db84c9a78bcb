// lab.dhcp(): a real busybox udhcpc in a VM gets a lease across a GRE tunnel from a busybox udhcpd in another VM.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { parseTopology } from '../../src/lab/topology.js';
import { leftovers, report, testPrefix } from './helpers.js';

const P = testPrefix('d');
let lab: Lab | undefined;

after(async () => {
  await lab?.down();
  await cleanupLeftovers(P);
});

test('a VM without an address gets one by DHCP (router, DNS, MTU applied) and then pings its server', async () => {
  const resolvConf = readFileSync('/etc/resolv.conf', 'utf8');
  lab = await Lab.up(
    parseTopology(`
hosts: [h1, h2]
vms:
  - {name: srv, host: h2, ip: 10.0.0.2/24}
  - {name: cli, host: h1}
  - {name: quiet, host: h1}
`),
    { prefix: P },
  );
  const leases = `${lab.dir}/udhcpd.leases`;
  const conf = `${lab.dir}/udhcpd.conf`;
  writeFileSync(
    conf,
    [
      'start 10.0.0.100',
      'end 10.0.0.110',
      'interface eth0',
      `lease_file ${leases}`,
      `pidfile ${lab.dir}/udhcpd.pid`,
      'option subnet 255.255.255.0',
      'option router 10.0.0.1',
      'option dns 10.0.0.53 10.0.0.54',
      'option domain lab.example',
      'option mtu 1400',
      'option lease 600',
      '',
    ].join('\n'),
  );
  writeFileSync(leases, '');
  const server = await lab.spawn('srv', 'udhcpd', ['busybox', 'udhcpd', '-f', conf]);
  const lease = await lab.dhcp('cli');
  assert.ok(lease.ok, `no lease:\n${lease.output}\n${server.logTail()}\n${await report(lab)}`);
  // udhcpd picks from its pool by the client's MAC.
  assert.match(lease.ip ?? '', /^10\.0\.0\.1(0\d|10)$/);
  assert.equal(lease.prefixLen, 24);
  assert.equal(lease.router, '10.0.0.1');
  assert.deepEqual(lease.dns, ['10.0.0.53', '10.0.0.54']);
  assert.equal(lease.domain, 'lab.example');
  assert.equal(lease.mtu, 1400);
  assert.equal(lease.leaseS, 600);
  assert.equal(lease.serverId, '10.0.0.2');

  const cli = lab.vm('cli');
  assert.match(await cli.run(['ip', '-4', '-br', 'addr', 'show', 'eth0']), new RegExp(`${lease.ip}/24`));
  assert.match(await cli.run(['ip', 'route', 'show', 'default']), /default via 10\.0\.0\.1 dev eth0/);
  assert.equal((await cli.run(['cat', '/sys/class/net/eth0/mtu'])).trim(), '1400');
  assert.equal(cli.cidr, `${lease.ip}/24`, 'the lab records the leased address');
  const ping = await lab.waitPing('cli', '10.0.0.2', { timeoutMs: 10000 });
  assert.ok(ping.ok, await report(lab, 'cli', 'srv'));
  assert.equal(readFileSync('/etc/resolv.conf', 'utf8'), resolvConf, "the machine's resolv.conf is untouched");

  // No server reachable (detached): the client gives up and says so, leaving eth0 without an address.
  await lab.detachVm('quiet');
  const none = await lab.dhcp('quiet', { tries: 2 });
  assert.equal(none.ok, false);
  assert.equal(none.ip, undefined);
  assert.equal((await lab.vm('quiet').run(['ip', '-4', 'addr', 'show', 'eth0'])).trim(), '');

  await lab.down();
  assert.ok(!server.alive(), 'down stops the DHCP server');
  assert.deepEqual(leftovers(P), { namespaces: [], processes: [], dir: false, links: [] });
});
