// kill -9 durability: the real `bin/vnet server` on a temp database, killed mid write burst, restarted: every
// acknowledged write is there and revisions never go backwards.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { FeedClient } from '../../src/client/index.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), `vnet-dur-${process.pid}-`));
const db = join(dir, 'vnet.db');
let proc: ChildProcess | undefined;
let log = '';

function newest(d: string): number {
  let t = 0;
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

before(() => {
  // bin/vnet runs dist/: rebuild when any source is newer than the build.
  const built = join(ROOT, 'dist/main.js');
  const mine = ['model', 'store', 'server', 'client'].map((d) => newest(join(ROOT, 'src', d)));
  if (!existsSync(built) || Math.max(...mine) > statSync(join(ROOT, 'dist/server/app.js')).mtimeMs) {
    spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  }
  assert.ok(existsSync(built), 'dist/ built');
});

after(() => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(): Promise<string> {
  const p = spawn(join(ROOT, 'bin/vnet'), ['server', '--listen', '127.0.0.1:0', '--db', db], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc = p;
  let out = '';
  p.stderr!.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out} ${log}`)), 30_000);
    p.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    p.on('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
}

function kill9(): Promise<void> {
  const p = proc!;
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

it('acknowledged writes survive kill -9 mid burst; revisions never go backwards', async (t) => {
  const acked: { kind: string; uuid: string }[] = [];
  let lastRevisionSeen = 0;
  for (let round = 0; round < 3; round++) {
    const base = await startServer();
    // Revisions after restart are never below anything observed before.
    const snap = (await (await fetch(`${base}/api/1.0/feed/snapshot`)).json()) as { revision: number; resources: any };
    assert.ok(snap.revision >= lastRevisionSeen, `revision ${snap.revision} < previously seen ${lastRevisionSeen}`);
    for (const a of acked) {
      const r = await fetch(`${base}/api/1.0/${a.kind}/${a.uuid}`);
      assert.equal(r.status, 200, `acknowledged ${a.kind} ${a.uuid} lost after kill -9 (round ${round})`);
    }
    // A watcher records the revisions the server announced.
    const feed = new FeedClient({ baseUrl: base, since: snap.revision, initialBackoffMs: 60_000 });
    feed.on('change', (c) => {
      assert.ok(c.revision > lastRevisionSeen);
      lastRevisionSeen = c.revision;
    });
    feed.on('disconnected', () => void feed.stop());
    feed.start();

    const network = `nw-r${round}`;
    const nw = await fetch(`${base}/api/1.0/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uuid: network, ipv4_network: `10.${round}.0.0`, ipv4_prefix: 16 }),
    });
    assert.equal(nw.status, 200);
    acked.push({ kind: 'networks', uuid: network });
    let stop = false;
    const writers = Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const id = `if-r${round}w${w}n${i}`;
        const n = w * 5000 + i + 1;
        try {
          const r = await fetch(`${base}/api/1.0/interfaces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              uuid: id,
              network_uuid: network,
              // Host part 1..254 in each /24, so no two writes share an address (n & 255 || 1 mapped
              // every 256th write onto the one after it: a 409 once a writer got that far).
              ipv4_address: `10.${round}.${Math.floor(n / 254)}.${(n % 254) + 1}`,
              mac_address: `02:0${round}:00:${w.toString(16).padStart(2, '0')}:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
            }),
          });
          if (r.status === 200) acked.push({ kind: 'interfaces', uuid: id });
          else assert.fail(`unexpected ${r.status} ${await r.text()}`);
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          return; // connection died with the server: not acknowledged
        }
      }
    });
    await new Promise((r) => setTimeout(r, 400 + round * 300));
    await kill9();
    stop = true;
    await Promise.all(writers);
    await feed.stop();
  }
  const base = await startServer();
  for (const a of acked) {
    const r = await fetch(`${base}/api/1.0/${a.kind}/${a.uuid}`);
    assert.equal(r.status, 200, `acknowledged ${a.kind} ${a.uuid} lost`);
  }
  const snap = (await (await fetch(`${base}/api/1.0/feed/snapshot`)).json()) as { revision: number };
  assert.ok(snap.revision >= lastRevisionSeen);
  assert.ok(acked.length > 20, `burst wrote ${acked.length}`);
  t.diagnostic(`${acked.length} acknowledged writes over 3 kill -9 rounds; last revision ${snap.revision}`);
  proc!.kill('SIGTERM');
  await new Promise((r) => proc!.once('exit', r));
  // The change log is gap-free and the database is intact.
  const d = new Database(db, { readonly: true });
  try {
    assert.equal(d.pragma('integrity_check', { simple: true }), 'ok');
    const revs = d.prepare('SELECT revision FROM changes ORDER BY revision').pluck().all() as number[];
    for (const [k, r] of revs.entries()) assert.equal(r, k + 1);
    assert.equal(revs.at(-1), snap.revision);
  } finally {
    d.close();
  }
});
