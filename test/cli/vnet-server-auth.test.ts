// `vnet server --require-auth` as a user runs it: it mints the first admin token into a private file and
// says where; vnctl without a token is refused (exit 1, 401), with VNET_TOKEN_FILE it works, and a reader
// token it creates cannot write. Contradictory flags are a usage error.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureBuilt } from '../lib/built.js';
import { freePort } from '../lib/free-port.js';

const ROOT = process.cwd();
let dir = '';
let api = '';
let server: ChildProcess | undefined;
let out = '';

function vnctl(args: string[], env: Record<string, string> = {}) {
  const clean = { ...process.env };
  for (const k of ['VNET_API', 'VNET_WEBAPI', 'VNET_TOKEN', 'VNET_TOKEN_FILE']) delete clean[k];
  const r = spawnSync(join(ROOT, 'bin/vnctl'), ['--api', api, ...args], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), `vnet-auth-cli-${process.pid}-`));
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  server = spawn(
    join(ROOT, 'bin/vnet'),
    ['server', '--require-auth', '--listen', `127.0.0.1:${port}`, '--db', join(dir, 'vnet.db')],
    { env: { ...process.env, VNET_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  server.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!out.includes('listening on')) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`vnet server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(() => {
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('the first admin token is written to a private file next to the database, and said so', () => {
  const file = join(dir, 'admin.token');
  assert.match(out, new RegExp(`admin token written to ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), /^tk-[a-z0-9]+\.[A-Za-z0-9_-]{43}\n$/);
});

test('vnctl: no token → exit 1 with the 401; VNET_TOKEN_FILE → works; a reader token cannot write', () => {
  const denied = vnctl(['networks', 'show']);
  assert.equal(denied.status, 1, denied.stderr);
  assert.match(denied.stderr, /401 Unauthenticated \(code 130\): a token is required/);
  const admin = { VNET_TOKEN_FILE: join(dir, 'admin.token') };
  assert.equal(vnctl(['networks', 'add', '--uuid', 'nw-a', '--ipv4-network', '10.7.0.0'], admin).status, 0);
  const created = vnctl(['tokens', 'add', '--role', 'reader', '-o', 'json'], admin);
  assert.equal(created.status, 0, created.stderr);
  const reader = JSON.parse(created.stdout).token as string;
  const shown = vnctl(['networks', 'show', 'nw-a', '--token', reader]);
  assert.equal(shown.status, 0, shown.stderr);
  const write = vnctl(['networks', 'del', 'nw-a'], { VNET_TOKEN: reader });
  assert.equal(write.status, 1);
  assert.match(write.stderr, /403 Forbidden \(code 131\): a reader token may not do this/);
});

test('--insecure with --require-auth is refused before anything starts', () => {
  const r = spawnSync(join(ROOT, 'bin/vnet'), ['server', '--insecure', '--require-auth', '--db', ':memory:'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--insecure and --require-auth contradict each other/);
});
