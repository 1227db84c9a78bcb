// What the metadata service answers, from an interface: OpenStack's and EC2's trees, user data, keys, and 404s.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostnameOf, metadataAnswer, publicKeysOf } from '../../../src/agent/metadata/content.js';
import type { Interface } from '../../../src/model/types.js';

const base = {
  uuid: 'if-vm1',
  display_name: 'Web Server #1',
  device_id: '',
  project_id: 'p1',
  network_uuid: 'nw-a',
  mac_address: '52:54:00:00:00:01',
  ipv4_address: '10.0.0.5',
  mac_leases: [],
  hostname: null,
  user_data: null,
  public_keys: null,
} as unknown as Interface;
const body = (i: Interface, path: string) => metadataAnswer(i, 'nw-a', path);

test('EC2: instance-id, hostname, local-ipv4 under latest and dated versions; listings', () => {
  assert.equal(body(base, '/latest/meta-data/instance-id').body, 'if-vm1');
  assert.equal(body(base, '/2009-04-04/meta-data/local-ipv4').body, '10.0.0.5');
  assert.equal(body(base, '/latest/meta-data/hostname').body, 'web-server-1');
  assert.equal(body(base, '/latest/meta-data/').body, 'instance-id\nhostname\nlocal-hostname\nlocal-ipv4');
  assert.equal(body({ ...base, device_id: 'vm-uuid-1' }, '/latest/meta-data/instance-id').body, 'vm-uuid-1');
  assert.equal(body(base, '/latest/user-data').status, 404);
  assert.equal(body(base, '/latest/meta-data/nothing').status, 404);
  assert.equal(body(base, '/../etc/passwd').status, 404);
});

test('OpenStack: meta_data.json, user_data, empty network and vendor data', () => {
  const i = {
    ...base,
    hostname: 'web1',
    user_data: '#cloud-config\n',
    public_keys: 'ssh-ed25519 AAAA alice\nssh-rsa BBBB',
  };
  const md = JSON.parse(body(i, '/openstack/latest/meta_data.json').body);
  assert.equal(md.uuid, 'if-vm1');
  assert.equal(md.hostname, 'web1');
  assert.equal(md.name, 'Web Server #1');
  assert.equal(md.project_id, 'p1');
  assert.deepEqual(md.public_keys, { alice: 'ssh-ed25519 AAAA alice', 'key-1': 'ssh-rsa BBBB' });
  assert.equal(body(i, '/openstack/2013-10-17/user_data').body, '#cloud-config\n');
  assert.deepEqual(JSON.parse(body(i, '/openstack/latest/network_data.json').body).links, []);
  assert.match(body(i, '/openstack').body, /latest$/);
  assert.equal(body(i, '/openstack/latest/nothing').status, 404);
  assert.equal(body(i, '/latest/meta-data/public-keys/1/openssh-key').body, 'ssh-rsa BBBB\n');
  assert.equal(body(i, '/latest/meta-data/public-keys/').body, '0=alice\n1=key-1');
  assert.equal(body(i, '/latest/meta-data/public-keys/2/openssh-key').status, 404);
});

test('names: hostname first, display_name made a label, else the uuid; duplicate key names kept apart', () => {
  assert.equal(hostnameOf({ ...base, display_name: '' }), 'if-vm1');
  assert.equal(hostnameOf({ ...base, display_name: '---' }), 'if-vm1');
  assert.deepEqual(
    publicKeysOf({ ...base, public_keys: 'ssh-rsa A x\nssh-rsa B x' }).map((k) => k.name),
    ['x', 'x-1'],
  );
});
