// Nothing acknowledged is lost, nothing is half-applied (issue 21 item 4): two real `bin/vnet server` processes on
// one private PostgreSQL take a concurrent burst of multi-document writes (networks, which allocate a tunnel key
// and a conntrack zone; interfaces with a MAC lease and an IP lease, some MACs allocated from a range group); one
// of them is killed with SIGKILL while it holds the global write lock (a transaction open in PostgreSQL, requests
// in flight), the other goes on writing; the killed one is started again, then the other is killed the same way.
// Afterwards: every write that got a 200 is there; each write whose answer was lost is there whole or not at all;
// the allocations are dense (first-free over a consistent history); the change log has no gap and replays to
// exactly the stored documents; a watcher of the surviving server saw every revision once, in order, across the
// kill; the feed from revision 0 does the same on both servers.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ensureBuilt } from '../lib/built.js';
import { type PostgresCluster, postgresMissing, startPostgres } from '../lib/postgres.js';
import { type RawWatcher, revisionsAfter, watchRaw } from '../lib/raw-feed.js';
import { waitFor } from '../lib/wait-for.js';

const ROOT = process.cwd();
/** src/store/postgres.ts's WRITE_LOCK: pg_locks shows a one-bigint advisory lock's low 32 bits as objid. */
const WRITE_LOCK = 0x766e6574;
const GROUP_FIRST_MAC = 0x02_00_00_00_10_00;

const skip = postgresMissing();
let cluster: PostgresCluster | null = null;
let db: pg.Client | null = null;
const procs = new Set<ChildProcess>();
const watchers: RawWatcher[] = [];

before(() => {
  if (!skip) ensureBuilt();
});
after(async () => {
  for (const w of watchers) await w.stop().catch(() => {});
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await db?.end().catch(() => {});
  await cluster?.stop();
});

interface Server {
  name: string;
  proc: ChildProcess;
  base: string;
  log: () => string;
}

/** `bin/vnet server` on the database, its connections named `vnet-NAME` (pg_stat_activity's application_name). */
async function startVnet(name: string, url: string): Promise<Server> {
  const proc = spawn(
    join(ROOT, 'bin/vnet'),
    ['server', '--listen', '127.0.0.1:0', '--db', `${url}?application_name=vnet-${name}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VNET_LOG_LEVEL: 'warn' } },
  );
  procs.add(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-8000)));
  proc.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-8000)));
  await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`vnet server ${name} exited ${proc.exitCode}: ${out}`);
      return /listening on http:\/\/\S+\n/.test(out);
    },
    () => `vnet server ${name} to listen: ${out}`,
    { timeoutMs: 30_000 },
  );
  return { name, proc, base: /listening on (http:\/\/\S+)\n/.exec(out)![1]!, log: () => out };
}

type Outcome = 'acked' | 'lost';
interface Write {
  kind: 'networks' | 'interfaces';
  uuid: string;
  via: string;
  round: number;
  outcome?: Outcome;
  /** Interfaces: the MAC is allocated from the range group (else given). */
  fromGroup?: boolean;
}

/** The three low bytes of n. */
const octets = (n: number) => [(n >> 16) & 255, (n >> 8) & 255, n & 255];
const hex = (b: number) => b.toString(16).padStart(2, '0');

async function post(base: string, path: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/api/1.0${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function mustPost(base: string, path: string, body: Record<string, unknown>): Promise<void> {
  const r = await post(base, path, body);
  assert.equal(r.status, 200, `${path} → ${r.status} ${await r.text()}`);
}

/**
 * Writers on `server` until `stop()` or their server dies: odd steps create a network, even ones an interface in
 * nw-base with its own address (every third allocating its MAC from the group). A reply other than 200 fails the
 * test; a connection that dies leaves the write's outcome unknown ('lost').
 */
function burst(server: Server, round: number, writers: number, writes: Write[]) {
  const tag = `r${round}${server.name}`;
  let stopped = false;
  const done = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; !stopped; i++) {
      const n = writes.length;
      const write: Write =
        i % 2 === 1
          ? { kind: 'networks', uuid: `nw-${tag}${w}x${i}`, via: server.name, round }
          : { kind: 'interfaces', uuid: `if-${tag}${w}x${i}`, via: server.name, round, fromGroup: n % 3 === 0 };
      writes.push(write);
      const body: Record<string, unknown> =
        write.kind === 'networks'
          ? { uuid: write.uuid, ipv4_network: `172.${16 + (n >> 16)}.${(n >> 8) & 255}.0`, ipv4_prefix: 24 }
          : {
              uuid: write.uuid,
              network_uuid: 'nw-base',
              // n + 1: never 10.0.0.0, the network's own address.
              ipv4_address: `10.${octets(n + 1).join('.')}`,
              ...(write.fromGroup
                ? { mac_range_group_uuid: 'mrg-kill' }
                : { mac_address: `52:54:00:${octets(n).map(hex).join(':')}` }),
            };
      let r: Response;
      try {
        r = await post(server.base, `/${write.kind}`, body);
      } catch {
        write.outcome = 'lost';
        return; // the server is gone: this writer stops
      }
      const text = await r.text().catch(() => null);
      if (text === null) {
        write.outcome = 'lost';
        return;
      }
      assert.equal(r.status, 200, `${write.kind} ${write.uuid} via ${server.name} → ${r.status} ${text}`);
      write.outcome = 'acked';
    }
  });
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(done);
    },
    done: Promise.all(done),
  };
}

/** Waits until `server`'s connection holds the global write lock (a write transaction open), then SIGKILLs it. */
async function killHoldingTheLock(server: Server): Promise<{ tries: number }> {
  let tries = 0;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; tries++) {
    const r = await db!.query(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted AND a.application_name = $2`,
      [WRITE_LOCK, `vnet-${server.name}`],
    );
    if (r.rows[0].n > 0) {
      const exited = new Promise((resolve) => server.proc.once('exit', resolve));
      server.proc.kill('SIGKILL');
      await exited;
      return { tries };
    }
  }
  throw new Error(`${server.name} never held the write lock`);
}

describe('vnet servers on one PostgreSQL killed with SIGKILL mid-burst', { skip: skip ?? false }, () => {
  it('lose no acknowledged write, leave no half-applied one, and keep the feed gap-free and in order', async (t) => {
    cluster = await startPostgres();
    const url = await cluster.createDatabase();
    db = new pg.Client({ connectionString: url });
    await db.connect();
    const servers: Record<string, Server> = { a: await startVnet('a', url), b: await startVnet('b', url) };
    await mustPost(servers.a!.base, '/networks', { uuid: 'nw-base', ipv4_network: '10.0.0.0', ipv4_prefix: 8 });
    await mustPost(servers.a!.base, '/mac_range_groups', { uuid: 'mrg-kill' });
    await mustPost(servers.a!.base, '/mac_range_groups/mrg-kill/mac_ranges', {
      begin_mac_address: '02:00:00:00:10:00',
      end_mac_address: '02:00:00:00:ff:ff',
    });

    const writes: Write[] = [];
    const rounds: string[] = [];
    for (const [round, [victim, survivor]] of [
      ['a', 'b'],
      ['b', 'a'],
    ].entries()) {
      const v = servers[victim!]!;
      const s = servers[survivor!]!;
      // A watcher of the survivor from its current revision: it must see every revision once, across the kill.
      const from = ((await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as { revision: number }).revision;
      const watcher = watchRaw(s.base, from);
      watchers.push(watcher);
      const onVictim = burst(v, round, 4, writes);
      const onSurvivor = burst(s, round, 4, writes);
      // Past the first requests (a fresh process is slow to answer them), then at the next write lock.
      await waitFor(
        () => writes.filter((w) => w.via === v.name && w.round === round && w.outcome === 'acked').length >= 20,
        () => `20 writes through ${v.name}: ${v.log()}`,
        { timeoutMs: 15_000 },
      );
      const { tries } = await killHoldingTheLock(v);
      const killedAt = writes.length;
      await onVictim.done;
      // The survivor goes on: its writers must get through once the dead server's transaction is rolled back.
      await waitFor(
        () => writes.slice(killedAt).filter((w) => w.via === s.name && w.outcome === 'acked').length >= 20,
        () => `20 writes acknowledged by ${s.name} after ${v.name} was killed (${s.log()})`,
        { timeoutMs: 15_000 },
      );
      await onSurvivor.stop();
      const upTo = ((await (await fetch(`${s.base}/api/1.0/feed/snapshot`)).json()) as { revision: number }).revision;
      await waitFor(
        () => watcher.ids.length >= upTo - from,
        () => `the watcher of ${s.name} to reach ${upTo} (has ${watcher.ids.length} after ${from})`,
        { timeoutMs: 10_000 },
      );
      assert.equal(watcher.error(), null, String(watcher.error()));
      assert.deepEqual(watcher.ids, revisionsAfter(from, upTo), `the watcher of ${s.name} across the kill`);
      const lost = writes.filter((w) => w.via === v.name && w.round === round && w.outcome === 'lost').length;
      assert.ok(lost > 0, `requests were in flight on ${v.name} when it was killed`);
      rounds.push(`round ${round}: ${v.name} killed holding the lock (poll ${tries}), ${lost} answers lost`);
      servers[victim!] = await startVnet(victim!, url);
    }

    const acked = writes.filter((w) => w.outcome === 'acked');
    const lost = writes.filter((w) => w.outcome === 'lost');
    t.diagnostic(`${acked.length} acknowledged writes, ${lost.length} unanswered; ${rounds.join('; ')}`);

    // One consistent view from each server: they agree.
    const snapshot = async (base: string) =>
      (await (await fetch(`${base}/api/1.0/feed/snapshot`)).json()) as {
        revision: number;
        resources: Record<string, { uuid: string; [k: string]: any }[]>;
      };
    const snap = await snapshot(servers.a!.base);
    assert.deepEqual(await snapshot(servers.b!.base), snap, 'both servers serve the same state');
    const byUuid = (kind: string) => new Map((snap.resources[kind] ?? []).map((d) => [d.uuid, d]));
    const networks = byUuid('networks');
    const interfaces = byUuid('interfaces');
    const macLeases = snap.resources.mac_leases ?? [];
    const ipLeases = snap.resources.ip_leases ?? [];

    // 1. Every acknowledged write is there.
    for (const w of acked)
      assert.ok((w.kind === 'networks' ? networks : interfaces).has(w.uuid), `acknowledged ${w.kind} ${w.uuid} lost`);
    // Nothing is there that was never asked for.
    const asked = new Set(writes.map((w) => w.uuid));
    for (const uuid of [...networks.keys(), ...interfaces.keys()])
      assert.ok(uuid === 'nw-base' || asked.has(uuid), `${uuid} was never written`);

    // 2. Whole or none: every interface has exactly its MAC lease and IP lease, every lease its interface.
    for (const [uuid, iface] of interfaces) {
      const mls = macLeases.filter((m) => m.interface_uuid === uuid);
      const ils = ipLeases.filter((l) => l.interface_uuid === uuid);
      assert.equal(mls.length, 1, `${uuid}: one MAC lease (${mls.length})`);
      assert.equal(ils.length, 1, `${uuid}: one IP lease (${ils.length})`);
      assert.equal(ils[0]!.mac_lease_uuid, mls[0]!.uuid, `${uuid}: its IP lease is on its MAC lease`);
      assert.equal(ils[0]!.network_uuid, 'nw-base');
      assert.deepEqual(
        iface.mac_leases,
        [
          {
            uuid: mls[0]!.uuid,
            mac_address: mls[0]!.mac_address,
            ip_leases: [{ uuid: ils[0]!.uuid, network_uuid: 'nw-base', ipv4_address: ils[0]!.ipv4_address }],
          },
        ],
        `${uuid} embeds its leases`,
      );
    }
    for (const l of [...macLeases, ...ipLeases])
      assert.ok(interfaces.has(l.interface_uuid), `lease ${l.uuid} of ${l.interface_uuid}, which is not there`);
    const unanswered = lost.map(
      (w) => `${w.uuid} ${(w.kind === 'networks' ? networks : interfaces).has(w.uuid) ? 'committed' : 'rolled back'}`,
    );
    t.diagnostic(`unanswered writes: ${unanswered.join(', ')}`);

    // 3. Allocations are first-free over a consistent history (creates only): dense, unique.
    const dense = (values: number[], what: string) =>
      assert.deepEqual(
        [...values].sort((x, y) => x - y),
        Array.from({ length: values.length }, (_, i) => i + 1),
        what,
      );
    dense(
      [...networks.values()].map((n) => n.tunnel_key),
      'tunnel keys',
    );
    dense(
      [...networks.values()].map((n) => n.ct_zone),
      'conntrack zones',
    );
    const groupMacs = macLeases
      .map((m) => Number.parseInt(String(m.mac_address).replaceAll(':', ''), 16))
      .filter((m) => m >= GROUP_FIRST_MAC && m <= 0x02_00_00_00_ff_ff)
      .map((m) => m - GROUP_FIRST_MAC + 1);
    assert.ok(groupMacs.length > 0, 'some MACs came from the range group');
    dense(groupMacs, 'MACs from the range group');

    // 4. The change log: revisions 1..current without a gap, the counter at its end, and replayed from 0 it gives
    // exactly the documents the snapshot has.
    const revs = (await db.query('SELECT revision FROM vnet_changes ORDER BY revision')).rows.map((r) => r.revision);
    assert.deepEqual(revs.map(Number), revisionsAfter(0, snap.revision), 'the change log has no gap');
    const meta = await db.query("SELECT value FROM vnet_meta WHERE key = 'revision'");
    assert.equal(Number(meta.rows[0].value), snap.revision);
    const replayed: Record<string, Map<string, unknown>> = {};
    const log = await db.query('SELECT resource, uuid, op, item FROM vnet_changes ORDER BY revision');
    for (const c of log.rows) {
      const m = (replayed[c.resource] ??= new Map());
      if (c.op === 'delete') m.delete(c.uuid);
      else m.set(c.uuid, JSON.parse(c.item));
    }
    for (const [kind, docs] of Object.entries(snap.resources))
      assert.deepEqual(
        new Map(docs.map((d) => [d.uuid, d])),
        replayed[kind] ?? new Map(),
        `the change log replays to the stored ${kind}`,
      );

    // 5. The feed from revision 0, on each server: every revision once, in order.
    for (const server of Object.values(servers)) {
      const w = watchRaw(server.base, 0);
      watchers.push(w);
      await waitFor(
        () => w.ids.length >= snap.revision,
        () => `${server.name}'s feed from 0 to reach ${snap.revision} (has ${w.ids.length})`,
        { timeoutMs: 10_000 },
      );
      await new Promise((r) => setTimeout(r, 100)); // a duplicate would show up now
      assert.deepEqual(w.ids, revisionsAfter(0, snap.revision), `${server.name}'s feed from revision 0`);
      await w.stop();
    }
  });
});
