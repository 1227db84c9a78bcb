// Benchmark of `vnet server` over real HTTP: interface create rate, list latency with 10k interfaces, and
// change-feed latency (write acknowledged → event delivered) with 100 watchers. The server runs in its own process
// on a temp SQLite file with the production settings (WAL, synchronous=FULL).
//   node --import tsx bench/server.ts [--interfaces N] [--concurrency C] [--watchers W] [--writes M] [--json]
import { SseParser } from '../src/client/index.js';
import { startServerProcess } from './lib/server-process.js';
import { ms, numOption, pct } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const json = args.includes('--json');
const N = opt('interfaces', 10_000);
const C = opt('concurrency', 16);
const W = opt('watchers', 100);
const M = opt('writes', 300);

const macOf = (i: number) =>
  `52:54:${((i >> 24) & 0xff).toString(16).padStart(2, '0')}:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const ipOf = (i: number) => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;

async function main() {
  const server = await startServerProcess('bench');
  const { base, api } = server;
  const req = (method: string, path: string, body?: unknown) => api.send<any>({ method, path, body });
  const results: Record<string, number> = {};
  try {
    await req('POST', '/api/1.0/networks', { uuid: 'nw-bench', ipv4_network: '10.0.0.0', ipv4_prefix: 8 });

    // 1. Create rate: interfaces with a MAC and an IP lease each (3 documents, 3 change events per write).
    let next = 0;
    const t0 = performance.now();
    const createLat: number[] = [];
    await Promise.all(
      Array.from({ length: C }, async () => {
        for (;;) {
          const i = next++;
          if (i >= N) return;
          const s = performance.now();
          await req('POST', '/api/1.0/interfaces', {
            uuid: `if-b${i}`,
            network_uuid: 'nw-bench',
            mac_address: macOf(i + 1),
            ipv4_address: ipOf(i + 2),
          });
          createLat.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    results.create_interfaces_per_s = Math.round(N / secs);
    results.create_p50_ms = ms(pct(createLat, 50));
    results.create_p99_ms = ms(pct(createLat, 99));
    if (!json) console.error(`created ${N} interfaces in ${secs.toFixed(1)} s`);

    // 2. List latency with N interfaces (each with its leases embedded).
    const listLat: number[] = [];
    for (let k = 0; k < 200; k++) {
      const offset = Math.floor(Math.random() * (N - 30));
      const s = performance.now();
      const page = await req('GET', `/api/1.0/interfaces?offset=${offset}`);
      listLat.push(performance.now() - s);
      if (page.total_count !== N || page.items.length !== 30) throw new Error('bad page');
    }
    results.list30_p50_ms = ms(pct(listLat, 50));
    results.list30_p99_ms = ms(pct(listLat, 99));
    let s = performance.now();
    const bigN = Math.min(1000, N);
    const big = await req('GET', `/api/1.0/interfaces?limit=${bigN}&offset=${Math.floor((N - bigN) / 2)}`);
    results.list1000_ms = ms(performance.now() - s);
    if (big.items.length !== bigN) throw new Error('bad page');
    s = performance.now();
    const all = await req('GET', `/api/1.0/interfaces?limit=${N}`);
    results.list_all_ms = ms(performance.now() - s);
    if (all.items.length !== N) throw new Error('bad list');
    s = performance.now();
    const snap = await req('GET', '/api/1.0/feed/snapshot');
    results.snapshot_ms = ms(performance.now() - s);

    // 3. Feed latency: W watchers on SSE; M sequential writes; per event, delivered − acknowledged.
    const deliveredAt = new Map<number, number[]>();
    const controllers: AbortController[] = [];
    let connected = 0;
    await Promise.all(
      Array.from({ length: W }, async () => {
        const ac = new AbortController();
        controllers.push(ac);
        const res = await fetch(`${base}/api/1.0/feed/changes?since=${snap.revision + 0}`, { signal: ac.signal });
        connected++;
        const parser = new SseParser((e) => {
          if (e.event !== 'change') return;
          const now = performance.now();
          const rev = Number(e.id);
          const list = deliveredAt.get(rev);
          if (list) list.push(now);
          else deliveredAt.set(rev, [now]);
        });
        const reader = res.body!.getReader();
        const dec = new TextDecoder();
        void (async () => {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) return;
              parser.push(dec.decode(value, { stream: true }));
            }
          } catch {}
        })();
      }),
    );
    if (connected !== W) throw new Error('watchers');
    const acked = new Map<number, number>();
    const sent = new Map<number, number>();
    for (let k = 0; k < M; k++) {
      const start = performance.now();
      await req('PUT', '/api/1.0/networks/nw-bench', { display_name: `n${k}` });
      const ack = performance.now();
      // One change per PUT: its revision is snapshot revision + k + 1.
      acked.set(snap.revision + k + 1, ack);
      sent.set(snap.revision + k + 1, start);
      await new Promise((r) => setTimeout(r, 5));
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && [...acked.keys()].some((r) => (deliveredAt.get(r)?.length ?? 0) < W))
      await new Promise((r) => setTimeout(r, 20));
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    let missing = 0;
    for (const [rev, ack] of acked) {
      const d = deliveredAt.get(rev) ?? [];
      missing += W - d.length;
      for (const t of d) {
        fromAck.push(t - ack);
        fromSend.push(t - sent.get(rev)!);
      }
    }
    for (const ac of controllers) ac.abort();
    results.feed_watchers = W;
    results.feed_events = fromAck.length;
    results.feed_missing = missing;
    results.feed_ack_to_delivery_p50_ms = ms(pct(fromAck, 50));
    results.feed_ack_to_delivery_p99_ms = ms(pct(fromAck, 99));
    results.feed_request_to_delivery_p50_ms = ms(pct(fromSend, 50));
    results.feed_request_to_delivery_p99_ms = ms(pct(fromSend, 99));
  } finally {
    await server.stop();
  }
  if (json) console.log(JSON.stringify(results));
  else {
    console.log(`vnet server bench (interfaces=${N}, concurrency=${C}, watchers=${W}, writes=${M})`);
    for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(36)} ${v}`);
  }
}

await main();
