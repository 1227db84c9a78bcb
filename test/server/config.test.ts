// `vnet server` configuration precedence (flags > env > file > defaults) and refusals of bad values.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { authMode } from '../../src/server/command.js';
import { ConfigError, DEFAULTS, parseListen, resolveConfig } from '../../src/server/config.js';

const dir = mkdtempSync(join(tmpdir(), `vnet-cfg-${process.pid}-`));
after(() => rmSync(dir, { recursive: true, force: true }));

it('defaults, file, env, flags in increasing precedence', () => {
  assert.deepEqual(resolveConfig({ flags: {}, env: { VNET_CONFIG: '' } }).port, DEFAULTS.port);
  const file = join(dir, 'server.yaml');
  writeFileSync(
    file,
    'listen: 0.0.0.0:9191\ndb: /tmp/file.db\nretain_changes: 500\nheartbeat_ms: 1000\nmax_watchers: 3000\nmax_snapshots_in_flight: 8\npresence_grace_ms: 0\nallowed_hosts: [vnet.example]\nkeystone_users: /etc/vnet/users.yaml\n',
  );
  const fromFile = resolveConfig({ flags: { config: file }, env: {} });
  assert.deepEqual(fromFile, {
    host: '0.0.0.0',
    port: 9191,
    db: '/tmp/file.db',
    retainChanges: 500,
    heartbeatMs: 1000,
    maxWatchers: 3000,
    maxSnapshotsInFlight: 8,
    presenceGraceMs: 0,
    requireAuth: false,
    insecure: false,
    adminTokenFile: null,
    allowedHosts: ['vnet.example'],
    tls: false,
    tlsCert: null,
    tlsKey: null,
    keystoneUsers: '/etc/vnet/users.yaml',
    auditRetainDays: DEFAULTS.auditRetainDays,
    auditRetainEntries: DEFAULTS.auditRetainEntries,
  });
  const fromEnv = resolveConfig({
    flags: {},
    env: { VNET_CONFIG: file, VNET_DB: '/tmp/env.db', VNET_LISTEN: '127.0.0.2:1' },
  });
  assert.equal(fromEnv.db, '/tmp/env.db');
  assert.equal(fromEnv.host, '127.0.0.2');
  assert.equal(fromEnv.retainChanges, 500);
  const fromFlags = resolveConfig({
    flags: { config: file, db: '/tmp/flag.db', listen: '127.0.0.1:0', retainChanges: '7' },
    env: { VNET_DB: '/tmp/env.db' },
  });
  assert.equal(fromFlags.db, '/tmp/flag.db');
  assert.equal(fromFlags.port, 0);
  assert.equal(fromFlags.retainChanges, 7);
});

it('refuses bad values with ConfigError', () => {
  assert.deepEqual(parseListen('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseListen('9090'), { host: '127.0.0.1', port: 9090 });
  for (const bad of ['host', 'host:99999', ':x', 'a:b:c']) assert.throws(() => parseListen(bad), ConfigError, bad);
  const file = join(dir, 'bad.yaml');
  for (const text of [
    'listen: [1',
    'colour: red',
    '- a\n- b',
    'retain_changes: -1',
    'max_watchers: 0',
    'max_snapshots_in_flight: 0',
    'presence_grace_ms: -1',
  ]) {
    writeFileSync(file, text);
    assert.throws(() => resolveConfig({ flags: { config: file }, env: {} }), ConfigError, text);
  }
  assert.throws(() => resolveConfig({ flags: { config: join(dir, 'missing.yaml') }, env: {} }), ConfigError);
  assert.throws(() => resolveConfig({ flags: { retainChanges: 'many' }, env: {} }), ConfigError);
});

it('tokens are required on any non-loopback listener unless --insecure; loopback alone is local trust', () => {
  const mode = (flags: Parameters<typeof resolveConfig>[0]['flags']) =>
    authMode(resolveConfig({ flags, env: { VNET_CONFIG: '' } }));
  assert.equal(mode({}), 'local', 'the default listener is 127.0.0.1');
  assert.equal(mode({ listen: '127.0.0.5:9090' }), 'local');
  assert.equal(mode({ listen: '[::1]:9090' }), 'local');
  assert.equal(mode({ listen: 'localhost:9090' }), 'local');
  assert.equal(mode({ listen: '0.0.0.0:9090' }), 'tokens');
  assert.equal(mode({ listen: '[::]:9090' }), 'tokens');
  assert.equal(mode({ listen: '192.0.2.1:9090' }), 'tokens');
  assert.equal(mode({ listen: '0.0.0.0:9090', insecure: true }), 'insecure');
  assert.equal(mode({ requireAuth: true }), 'tokens');
  assert.throws(() => mode({ requireAuth: true, insecure: true }), ConfigError);
  assert.throws(() => mode({ allowedHost: ['bad host'] }), ConfigError);
  // A certificate without its key (or the reverse) is a configuration error; both given mean TLS.
  assert.throws(() => resolveConfig({ flags: { tlsCert: '/x.crt' }, env: { VNET_CONFIG: '' } }), ConfigError);
  assert.equal(resolveConfig({ flags: { tlsCert: '/x.crt', tlsKey: '/x.key' }, env: { VNET_CONFIG: '' } }).tls, true);
});
