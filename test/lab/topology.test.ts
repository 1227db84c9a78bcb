// Topology validation (errors name the field), defaults, address helpers, ping/tcpdump output parsing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LabInputError } from '../../src/lab/errors.js';
import { packetLines, parsePing } from '../../src/lab/lab.js';
import {
  checkPrefix,
  defaultMac,
  defaultTopology,
  inSubnet,
  nthAddress,
  parseTopology,
  validateExternalSpec,
  validateTopology,
} from '../../src/lab/topology.js';

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof LabInputError, `expected LabInputError, got ${String(err)}`);
    assert.equal(err.code, 'VNET_LAB_BAD_INPUT');
    return err.field;
  }
  assert.fail('no error thrown');
}

test('default topology: hosts h1..hN, VMs round-robin with distinct MACs, IPs and port names', () => {
  const t = defaultTopology(2, 3);
  assert.deepEqual(
    t.hosts.map((h) => h.name),
    ['h1', 'h2'],
  );
  assert.deepEqual(
    t.vms.map((v) => [v.name, v.host, v.mac, v.ip]),
    [
      ['vm1', 'h1', '02:00:00:00:00:01', '10.0.0.11/24'],
      ['vm2', 'h2', '02:00:00:00:00:02', '10.0.0.12/24'],
      ['vm3', 'h1', '02:00:00:00:00:03', '10.0.0.13/24'],
    ],
  );
  assert.equal(defaultMac(300), '02:00:00:00:01:2c');
  assert.equal(
    fieldOf(() => defaultTopology(0, 1)),
    'hosts',
  );
  assert.equal(
    fieldOf(() => defaultTopology(1, -1)),
    'vms',
  );
});

test('a full topology file parses, with snake, kebab and camel keys', () => {
  const t = parseTopology(`
prefix: lab2
underlay: 10.250.7.0/24
encap: vxlan
mode: none
create_bridge: false
hosts: [h1, {name: h2, underlay-ip: 10.250.7.9}]
vms:
  - {name: a, host: h1, mac: "0A:00:00:0A:00:11", ip: 172.16.1.11/24, gateway: 172.16.1.1, mtu: 1400, port: if-veth1, iface_id: if-x}
  - {name: b, host: h2, ip: none, ifaceId: if-y, attach: false}
  - {name: c, host: h2, ip: dhcp}
`);
  assert.equal(t.prefix, 'lab2');
  assert.equal(t.encap, 'vxlan');
  assert.equal(t.mode, 'none');
  assert.equal(t.createBridge, false);
  assert.deepEqual(t.hosts, [{ name: 'h1' }, { name: 'h2', underlayIp: '10.250.7.9' }]);
  assert.deepEqual(t.vms[0], {
    name: 'a',
    host: 'h1',
    mac: '0a:00:00:0a:00:11',
    ip: '172.16.1.11/24',
    gateway: '172.16.1.1',
    mtu: 1400,
    port: 'if-veth1',
    ifaceId: 'if-x',
  });
  assert.deepEqual(t.vms[1], { name: 'b', host: 'h2', ip: null, ifaceId: 'if-y', attach: false });
  assert.equal(t.vms[2]!.ip, null);
});

test('bad topologies are refused with the field named', () => {
  const base = (vms: string) => `hosts: [h1, h2]\nvms: ${vms}\n`;
  const cases: [string, string][] = [
    ['hosts: []', 'hosts'],
    ['hosts: [H1]', 'hosts[0].name'],
    ['hosts: [ul]', 'hosts[0].name'],
    ['hosts: [root]', 'hosts[0].name'],
    ['hosts: [ext]', 'hosts[0].name'],
    ['hosts: [h1, h1]', 'hosts[1].name'],
    ['hosts: [{name: h1, underlay_ip: 300.1.1.1}]', 'hosts[0].underlay_ip'],
    ['hosts: [{name: h1, colour: red}]', 'hosts[0].colour'],
    ['encap: geneve\nhosts: [h1]', 'encap'],
    ['mode: fancy\nhosts: [h1]', 'mode'],
    ['prefix: my-lab\nhosts: [h1]', 'prefix'],
    ['underlay: 10.0.0.0\nhosts: [h1]', 'underlay'],
    ['frobs: 1\nhosts: [h1]', 'topology.frobs'],
    [base('[{name: a, host: h3}]'), 'vms[0].host'],
    [base('[{name: h1, host: h1}]'), 'vms[0].name'],
    [base('[{name: a, host: h1}, {name: a, host: h2}]'), 'vms[1].name'],
    [base('[{name: a, host: h1, mac: 01:00:00:00:00:01}]'), 'vms[0].mac'],
    [base('[{name: a, host: h1, mac: zz:00:00:00:00:01}]'), 'vms[0].mac'],
    [base('[{name: a, host: h1, ip: 10.0.0.1}]'), 'vms[0].ip'],
    [base('[{name: a, host: h1, ip: 10.0.0.1/33}]'), 'vms[0].ip'],
    [base('[{name: a, host: h1, gateway: x}]'), 'vms[0].gateway'],
    [base('[{name: a, host: h1, mtu: 100}]'), 'vms[0].mtu'],
    [base('[{name: a, host: h1, mtu: "1400"}]'), 'vms[0].mtu'],
    [base('[{name: a, host: h1, port: this-name-is-too-long}]'), 'vms[0].port'],
    [base('[{name: a, host: h1, port: "a b"}]'), 'vms[0].port'],
    [base('[{name: a, host: h1, iface_id: "x y"}]'), 'vms[0].iface_id'],
    [base('[{name: a, host: h1, attach: yes please}]'), 'vms[0].attach'],
    [base('{name: a}'), 'vms'],
    ['hosts: [h1\n', 'topo.yaml'],
  ];
  for (const [text, field] of cases)
    assert.equal(
      fieldOf(() => parseTopology(text, 'topo.yaml')),
      field,
      text,
    );
  assert.equal(
    fieldOf(() => validateTopology(null)),
    'topology',
  );
});

test('prefixes are short and dash-free, so one lab never matches another lab`s names', () => {
  assert.equal(checkPrefix('vnl'), 'vnl');
  assert.equal(checkPrefix('t1a2b3c4'), 't1a2b3c4');
  for (const bad of ['', 'a-b', 'toolongprefix', '1ab', 'ABC', 'a/b'])
    assert.equal(
      fieldOf(() => checkPrefix(bad)),
      'prefix',
    );
});

test('underlay addresses: the n-th host address of a subnet, and membership', () => {
  assert.equal(nthAddress('192.168.100.0/24', 1), '192.168.100.1');
  assert.equal(nthAddress('192.168.100.77/24', 254), '192.168.100.254');
  assert.equal(nthAddress('10.250.0.0/16', 300), '10.250.1.44');
  assert.equal(
    fieldOf(() => nthAddress('192.168.100.0/24', 255)),
    'underlay',
  );
  assert.equal(
    fieldOf(() => nthAddress('192.168.100.0/30', 3)),
    'underlay',
  );
  assert.ok(inSubnet('10.250.7.33', '10.250.7.0/24'));
  assert.ok(!inSubnet('10.250.8.1', '10.250.7.0/24'));
});

test('ping output: counts and average RTT; nothing received has no RTT', () => {
  const ok = `PING 10.0.0.12 (10.0.0.12) 56(84) bytes of data.
64 bytes from 10.0.0.12: icmp_seq=1 ttl=64 time=22.1 ms

--- 10.0.0.12 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2003ms
rtt min/avg/max/mdev = 0.512/1.250/2.121/0.600 ms
`;
  assert.deepEqual(parsePing(ok), { sent: 3, received: 3, rttMs: 1.25 });
  const lost = `--- 10.0.0.99 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1001ms
`;
  assert.deepEqual(parsePing(lost), { sent: 2, received: 0 });
  assert.deepEqual(parsePing('ping: connect: Network is unreachable'), { sent: 0, received: 0 });
});

test('tcpdump output: one entry per packet, inner frames on their own line joined to their packet', () => {
  const out = `14:05:23.580946 56:1a:d4:1d:5f:43 > 9a:aa:34:e0:d9:45, ethertype IPv4 (0x0800), length 148: 10.250.7.1.34385 > 10.250.7.2.4789: VXLAN, flags [I] (0x08), vni 1
02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 98: 10.0.0.11 > 10.0.0.12: ICMP echo request, id 1, seq 1, length 64
14:05:23.590000 56:1a:d4:1d:5f:43 > 9a:aa:34:e0:d9:45, ethertype IPv4 (0x0800), length 106: 10.250.7.1 > 10.250.7.2: GREv0, key=0x1, length 106: IP 10.0.0.11 > 10.0.0.12: ICMP echo request, id 1, seq 2, length 64

`;
  const lines = packetLines(out);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /vni 1 02:00:00:00:00:01 > 02:00:00:00:00:02.*ICMP echo request/);
  assert.match(lines[1]!, /GREv0/);
  assert.deepEqual(packetLines(''), []);
});

test('external nodes: VLAN 2..4094 or null (flat; VLAN 1 is the untagged one), fields named on error', () => {
  assert.deepEqual(validateExternalSpec({ name: 'e1', ip: '203.0.113.1/24', vlan: 10, gateway: '203.0.113.254' }), {
    name: 'e1',
    ip: '203.0.113.1/24',
    vlan: 10,
    gateway: '203.0.113.254',
  });
  assert.deepEqual(validateExternalSpec({ name: 'e2', ip: null, vlan: null }), { name: 'e2', ip: null });
  const cases: [Record<string, unknown>, string][] = [
    [{ name: 'ext' }, 'external.name'],
    [{ name: 'e1', vlan: 1 }, 'external.vlan'],
    [{ name: 'e1', vlan: 4095 }, 'external.vlan'],
    [{ name: 'e1', vlan: '10' }, 'external.vlan'],
    [{ name: 'e1', ip: '10.0.0.1' }, 'external.ip'],
    [{ name: 'e1', mac: '01:00:00:00:00:01' }, 'external.mac'],
    [{ name: 'e1', mtu: 100 }, 'external.mtu'],
    [{ name: 'e1', colour: 'red' }, 'external.colour'],
  ];
  for (const [spec, field] of cases)
    assert.equal(
      fieldOf(() => validateExternalSpec(spec)),
      field,
      JSON.stringify(spec),
    );
});
