// Benchmark of the PostgreSQL store against SQLite, over real HTTP with `vnet server` processes: interface create
// rate (3 documents and 3 changes per write, C concurrent clients spread over the servers) and change-feed latency
// (write sent → event received) on a watcher of the server written to and of each other server. Setups: one
// server on SQLite (WAL, synchronous=FULL), then one, two and three servers (--servers) on one PostgreSQL (a
// private cluster with PostgreSQL's durable defaults: fsync at every commit).
//   node --import tsx bench/postgres.ts [--writes N] [--concurrency C] [--latency M] [--servers 1,2,3] [--json]
import { SseParser } from '../src/client/index.js';
import { startPostgres } from '../test/lib/postgres.js';
import { type ServerProcess, startServerProcess } from './lib/server-process.js';
import { ms, numOption, pct } from './lib/stats.js';
const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const json = args.includes('--json');
const N = opt('writes', 2000);
const C = opt('concurrency', 16);
const M = opt('latency', 200);
const serversArg = args.indexOf('--servers');
const COUNTS = (serversArg >= 0 ? args[serversArg + 1]! : '1,2,3').split(',').map(Number);

const hex = (i: number, bytes: number) =>
  Array.from({ length: bytes }, (_, k) => ((i >> (8 * (bytes - 1 - k))) & 0xff).toString(16).padStart(2, '0'));
const macOf = (i: number) => `52:54:${hex(i, 4).join(':')}`;
const ipOf = (i: number) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;

async function post(base: string, path: string, body: unknown): Promise<void> {
  const r = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${path} → ${r.status} ${text}`);
}

/** A raw SSE watcher from the current revision, calling `onChange(uuid)` for each change event. */
function watch(base: string, onChange: (uuid: string) => void): () => void {
  const ac = new AbortController();
  const parser = new SseParser((e) => {
    if (e.event === 'change') onChange((JSON.parse(e.data) as { uuid: string }).uuid);
  });
  void (async () => {
    const snap = (await (await fetch(`${base}/api/1.0/feed/snapshot`)).json()) as { revision: number };
    const live = await fetch(`${base}/api/1.0/feed/changes?since=${snap.revision}`, { signal: ac.signal });
    const dec = new TextDecoder();
    const reader = live.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      parser.push(dec.decode(value, { stream: true }));
    }
  })().catch(() => {});
  return () => ac.abort();
}

async function measure(label: string, servers: ServerProcess[]): Promise<Record<string, number | string>> {
  const bases = servers.map((s) => s.base);
  await post(bases[0]!, '/api/1.0/networks', { uuid: 'nw-bench', ipv4_network: '10.0.0.0', ipv4_prefix: 8 });
  // 1. Create rate: C clients, round-robin over the servers.
  let next = 0;
  const t0 = performance.now();
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: C }, async (_, c) => {
      const base = bases[c % bases.length]!;
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const s = performance.now();
        await post(base, '/api/1.0/interfaces', {
          uuid: `if-b${i}`,
          network_uuid: 'nw-bench',
          mac_address: macOf(i + 1),
          ipv4_address: ipOf(i + 2),
        });
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  // 2. Feed latency: one write at a time through server 0; a watcher on it and on each other server.
  const waiting = new Map<string, { t: number }>();
  const same: number[] = [];
  const other: number[] = [];
  const stops = bases.map((b, k) =>
    watch(b, (uuid) => {
      const w = waiting.get(uuid);
      if (w) (k === 0 ? same : other).push(performance.now() - w.t);
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < M; i++) {
    const uuid = `dp-l${i}`;
    waiting.set(uuid, { t: performance.now() });
    await post(bases[0]!, '/api/1.0/datapaths', { uuid, dpid: `0x${(i + 1).toString(16)}`, node_id: `n${i}` });
    const deadline = Date.now() + 5000;
    while ((same.length <= i || other.length < (i + 1) * (bases.length - 1)) && Date.now() < deadline)
      await new Promise((r) => setImmediate(r));
  }
  for (const stop of stops) stop();
  const out: Record<string, number | string> = {
    setup: label,
    creates_per_s: Math.round(N / secs),
    create_p50_ms: ms(pct(lat, 50)),
    create_p99_ms: ms(pct(lat, 99)),
    event_same_server_p50_ms: ms(pct(same, 50)),
    event_same_server_p99_ms: ms(pct(same, 99)),
  };
  if (bases.length > 1) {
    out.event_other_server_p50_ms = ms(pct(other, 50));
    out.event_other_server_p99_ms = ms(pct(other, 99));
  }
  return out;
}

async function main() {
  const results: Record<string, number | string>[] = [];
  const sqlite = await startServerProcess('bench-pg');
  try {
    results.push(await measure('sqlite, 1 server', [sqlite]));
  } finally {
    await sqlite.stop();
  }
  const cluster = await startPostgres({ durable: true });
  try {
    for (const count of COUNTS) {
      const url = await cluster.createDatabase();
      const servers: ServerProcess[] = [];
      try {
        // A second --db wins over the helper's SQLite file.
        for (let k = 0; k < count; k++) servers.push(await startServerProcess('bench-pg', ['--db', url]));
        results.push(await measure(`postgres, ${count} server${count > 1 ? 's' : ''}`, servers));
      } finally {
        for (const s of servers) await s.stop();
      }
    }
  } finally {
    await cluster.stop();
  }
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else console.table(results);
}

await main();
