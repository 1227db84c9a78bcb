// `vnet agent` option parsing: defaults, and every bad value rejected with an error naming the option.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentConfigError } from '../../../src/agent/runtime/errors.js';
import { parseAgentOptions, parseListen } from '../../../src/agent/runtime/options.js';

test('defaults follow the issue (br0, system OVSDB socket, 127.0.0.1:6633, gre, 1500)', () => {
  const c = parseAgentOptions({ nodeId: 'n1' });
  assert.equal(c.server, 'http://127.0.0.1:9090');
  assert.equal(c.bridge, 'br0');
  assert.equal(c.ovsdb, 'unix:/var/run/openvswitch/db.sock');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 6633 });
  assert.equal(c.switchSocket, 'unix:/var/run/openvswitch/br0.mgmt');
  assert.equal(c.encap, 'gre');
  assert.equal(c.underlayMtu, 1500);
  assert.equal(c.tunnelIp, null);
  assert.equal(c.register, false);
  assert.equal(c.createBridge, false);
  assert.ok(c.nodeId.length > 0);
});

test('all options are taken as given', () => {
  const c = parseAgentOptions({
    server: 'http://10.0.0.1:9090/',
    nodeId: 'host-a',
    bridge: 'br-int',
    ovsdb: 'tcp:127.0.0.1:6640',
    listen: '0.0.0.0:16633',
    tunnelIp: '192.168.50.1',
    encap: 'vxlan',
    underlayMtu: '9000',
    createBridge: true,
    datapathType: 'system',
    register: true,
  });
  assert.equal(c.server, 'http://10.0.0.1:9090');
  assert.equal(c.ovsdb, 'tcp:127.0.0.1:6640');
  assert.deepEqual(c.listen, { host: '0.0.0.0', port: 16633 });
  assert.equal(c.tunnelIp, '192.168.50.1');
  assert.equal(c.encap, 'vxlan');
  assert.equal(c.underlayMtu, 9000);
  assert.equal(c.datapathType, 'system');
  assert.equal(c.register, true);
});

const bad: Array<[string, Parameters<typeof parseAgentOptions>[0]]> = [
  ['server', { server: 'not a url' }],
  ['server', { server: 'ftp://x' }],
  ['server', { server: 'http://a:9090,ftp://b' }],
  ['server', { server: ' , ' }],
  ['bridge', { bridge: 'a-bridge-name-that-is-too-long' }],
  ['bridge', { bridge: 'br/0' }],
  ['ovsdb', { ovsdb: '/var/run/openvswitch/db.sock' }],
  ['ovsdb', { ovsdb: 'tcp:localhost' }],
  ['listen', { listen: '6633' }],
  ['listen', { listen: '127.0.0.1:70000' }],
  ['listen', { listen: 'example.com:6633' }],
  ['switch-socket', { switchSocket: '/run/openvswitch/br0.mgmt' }],
  ['switch-socket', { switchSocket: 'tcp:127.0.0.1:6653' }],
  ['tunnel-ip', { tunnelIp: '10.0.0' }],
  ['tunnel-ip', { tunnelIp: '::1' }],
  ['encap', { encap: 'geneve' }],
  ['underlay-mtu', { underlayMtu: '1500x' }],
  ['underlay-mtu', { underlayMtu: '100' }],
  ['datapath-type', { datapathType: 'dummy' }],
];
for (const [field, raw] of bad) {
  test(`bad --${field} ${JSON.stringify(raw)} is a typed error naming it`, () => {
    assert.throws(
      () => parseAgentOptions({ nodeId: 'n', ...raw }),
      (err: unknown) =>
        err instanceof AgentConfigError &&
        err.field === field &&
        err.code === 'AGENT_CONFIG_INVALID' &&
        err.message.startsWith(`--${field}:`),
    );
  });
}

test('--server takes several servers, comma-separated (the first is followed first)', () => {
  const c = parseAgentOptions({ nodeId: 'n', server: 'http://a:9090/, https://b:9443' });
  assert.deepEqual(c.servers, ['http://a:9090', 'https://b:9443']);
  assert.equal(c.server, 'http://a:9090');
});

test('the switch: its mgmt socket beside a unix: OVSDB socket, unless told, or reached over the network, or TLS', () => {
  const at = (o: Parameters<typeof parseAgentOptions>[0]) => parseAgentOptions({ nodeId: 'n1', ...o }).switchSocket;
  assert.equal(at({ ovsdb: 'unix:/tmp/lab/h1/db.sock', bridge: 'br-int' }), 'unix:/tmp/lab/h1/br-int.mgmt');
  assert.equal(at({ switchSocket: 'unix:/elsewhere/br0.mgmt' }), 'unix:/elsewhere/br0.mgmt');
  assert.equal(at({ switchSocket: 'none' }), null);
  assert.equal(at({ ovsdb: 'tcp:127.0.0.1:6640' }), null);
});

test('IPv6 listen addresses in brackets are accepted', () => {
  assert.deepEqual(parseListen('[::1]:6633'), { host: '::1', port: 6633 });
});
