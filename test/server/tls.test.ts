// HTTPS: the server's self-signed identity (made once, reused, private key 0600, the addresses it serves), clients
// that verify it with the certificate as CA (API calls, the change feed, vnctl), and refusals that say what is
// wrong: no CA given, another server's certificate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runVnctl } from '../../src/cli/vnctl/main.js';
import { ApiClient, ApiUnreachableError, FeedClient } from '../../src/client/index.js';
import { buildApp } from '../../src/server/app.js';
import { tlsIdentity } from '../../src/server/tls.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ensureBuilt } from '../lib/built.js';

const dir = mkdtempSync(join(tmpdir(), `vnet-tls-${process.pid}-`));
let base = '';
let ca = '';
let close: () => Promise<void> = async () => undefined;

before(async () => {
  const tls = await tlsIdentity({ dir, listenHost: '127.0.0.1', names: [] });
  ca = tls.cert;
  const store = new SqliteStore({ path: ':memory:' });
  const { app } = await buildApp({ store, tls });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  base = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  close = async () => {
    await app.close();
    await store.close();
  };
});
after(async () => {
  await close();
  rmSync(dir, { recursive: true, force: true });
});

test('the self-signed identity: made once and reused, key private, naming loopback', async () => {
  const again = await tlsIdentity({ dir, listenHost: '127.0.0.1', names: [] });
  assert.equal(again.generated, false);
  assert.equal(again.cert, ca);
  assert.equal(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);
  const x = new X509Certificate(ca);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(x.subjectAltName ?? '', /DNS:localhost/);
  assert.equal(again.fingerprint, x.fingerprint256);
});

test('clients that trust the certificate get answers: calls, the feed, vnctl', async () => {
  const api = new ApiClient({ baseUrl: base, ca });
  await api.send({ method: 'POST', path: '/networks', body: { uuid: 'nw-tls', ipv4_network: '10.70.0.0' } });
  const feed = new FeedClient({ baseUrl: base, ca, initialBackoffMs: 50 });
  const got = new Promise<number>((resolve) => feed.on('snapshot', (s) => resolve(s.resources.networks.length)));
  const change = new Promise<string>((resolve) => feed.on('change', (c) => resolve(c.uuid)));
  feed.start();
  assert.equal(await got, 1);
  await api.send({ method: 'POST', path: '/networks', body: { uuid: 'nw-tls2', ipv4_network: '10.71.0.0' } });
  assert.equal(await change, 'nw-tls2', 'live changes stream over https');
  await feed.stop();
  let out = '';
  const status = await runVnctl(
    ['--api', base, 'networks', 'show', 'nw-tls', '-o', 'json'],
    { VNET_CA_FILE: join(dir, 'tls.crt') },
    {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
    },
  );
  assert.equal(status, 0, out);
  assert.equal(JSON.parse(out).uuid, 'nw-tls');
});

test('no CA, or another server’s certificate: refused, saying why and what to do', async () => {
  const other = await tlsIdentity({ dir: join(dir, 'other'), listenHost: '127.0.0.1', names: [] });
  for (const [what, client] of [
    ['system CAs only', new ApiClient({ baseUrl: base })],
    ['another certificate', new ApiClient({ baseUrl: base, ca: other.cert })],
  ] as const) {
    const err = await client.send({ method: 'GET', path: '/networks' }).then(
      () => assert.fail(`${what}: answered`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiUnreachableError, what);
    assert.match(err.message, /TLS: the server certificate .*--ca-file/, `${what}: ${err.message}`);
  }
  let stderr = '';
  const status = await runVnctl(
    ['--api', base, 'networks', 'show'],
    {},
    { stdout: () => undefined, stderr: (s) => (stderr += s) },
  );
  assert.equal(status, 3);
  assert.match(stderr, /TLS: the server certificate is self-signed and not trusted here/);
});

test('vnet server --tls prints the certificate and its fingerprint, and listens on https', async () => {
  ensureBuilt();
  const d = mkdtempSync(join(tmpdir(), `vnet-tls-proc-${process.pid}-`));
  const p = spawn(
    join(process.cwd(), 'bin/vnet'),
    ['server', '--tls', '--listen', '127.0.0.1:0', '--db', join(d, 'vnet.db')],
    {
      env: { ...process.env, VNET_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const deadline = Date.now() + 20_000;
    while (!out.includes('listening on') && Date.now() < deadline && p.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    const m = /TLS certificate (\S+) sha256 ([0-9A-F:]{95})/.exec(out);
    assert.ok(m, out);
    assert.equal(m[1], join(d, 'tls.crt'));
    assert.equal(new X509Certificate(readFileSync(m[1]!, 'utf8')).fingerprint256, m[2]);
    const url = /listening on (https:\/\/\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    const api = new ApiClient({ baseUrl: url, ca: readFileSync(m[1]!, 'utf8') });
    await api.send({ method: 'GET', path: '/networks' });
  } finally {
    p.kill('SIGTERM');
    rmSync(d, { recursive: true, force: true });
  }
});
