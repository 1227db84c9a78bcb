// What security costs: write latency and rate with tokens, and with tokens over TLS, against the same server
// with local trust over plain HTTP (target: overhead ≤ 10 %; keep-alive connections, as the agent and
// scripts using the client have); and change-feed replay throughput with 20
// watchers reading a ~80 MB history from revision 0, and the server's RSS meanwhile.
//   node --import tsx bench/security.ts [--writes N] [--concurrency C] [--json]
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { startServerProcess } from './lib/server-process.js';
import { ms, numOption, pct } from './lib/stats.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => numOption(args, name, def);
const json = args.includes('--json');
const N = opt('writes', 2000);
const C = opt('concurrency', 8);

type Server = Awaited<ReturnType<typeof startServerProcess>>;

/**
 * One round: `n` writes (a network's display name, each its own transaction, change and audit entry: a cost
 * that does not grow with the model) from C concurrent clients.
 */
async function round(server: Server, n: number, lat: number[]): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async (_, c) => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        const s = performance.now();
        await server.api.send({ method: 'PUT', path: `/networks/nw-sec${c}`, body: { display_name: `n${i}` } });
        lat.push(performance.now() - s);
      }
    }),
  );
  return performance.now() - t0;
}

/**
 * The three servers run side by side and take turns, ten rounds each, so that drift of the machine (other
 * load, caches) falls on all of them alike.
 */
async function writes() {
  const configs = [
    { name: 'plain', args: [] as string[] },
    { name: 'tokens', args: ['--require-auth'] },
    { name: 'tokens_tls', args: ['--require-auth', '--tls'] },
  ];
  const servers = await Promise.all(configs.map((c) => startServerProcess(`sec-${c.name}`, c.args)));
  try {
    for (const s of servers)
      for (let c = 0; c < C; c++)
        await s.api.send({
          method: 'POST',
          path: '/networks',
          body: { uuid: `nw-sec${c}`, ipv4_network: `10.9.${c}.0` },
        });
    const lat = servers.map(() => [] as number[]);
    const time = servers.map(() => 0);
    for (const s of servers) await round(s, 100, []); // warm-up: connections, JIT
    const rounds = 10;
    for (let r = 0; r < rounds; r++)
      for (let k = 0; k < servers.length; k++) time[k]! += await round(servers[k]!, Math.ceil(N / rounds), lat[k]!);
    return Object.fromEntries(
      configs.map((c, k) => [
        c.name,
        { per_s: Math.round(N / (time[k]! / 1000)), p50_ms: ms(pct(lat[k]!, 50)), p99_ms: ms(pct(lat[k]!, 99)) },
      ]),
    ) as Record<'plain' | 'tokens' | 'tokens_tls', { per_s: number; p50_ms: number; p99_ms: number }>;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN) / 1024;

/** 900 rule writes to one group (~80 MB of history), then 20 watchers replay it from 0 to the end. */
async function replay() {
  const server = await startServerProcess('sec-replay');
  try {
    const sg = await server.api.send<{ uuid: string }>({ method: 'POST', path: '/security_groups', body: {} });
    for (let i = 0; i < 900; i++)
      await server.api.send({
        method: 'POST',
        path: `/security_groups/${sg.uuid}/rules`,
        body: { direction: 'ingress', protocol: 'tcp', port_range_min: 1 + i, port_range_max: 1 + i },
      });
    const last = (await server.api.send<{ revision: number }>({ method: 'GET', path: '/feed/snapshot' })).revision;
    const pid = server.proc.pid!;
    const rssBefore = rssMb(pid);
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
    const https = server.base.startsWith('https');
    const t0 = performance.now();
    const bytes = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<number>((resolve, reject) => {
            let n = 0;
            let text = '';
            const req = (https ? httpsRequest : httpRequest)(`${server.base}/api/1.0/feed/changes?since=0`, (res) => {
              res.on('data', (c: Buffer) => {
                n += c.length;
                // The last change of the history ends the replay for this watcher.
                const seen = text + c.toString('latin1');
                text = seen.slice(-64);
                if (seen.includes(`id: ${last}\n`)) {
                  req.destroy();
                  resolve(n);
                }
              });
            });
            req.on('error', (e) => (n > 0 ? resolve(n) : reject(e)));
            req.end();
          }),
      ),
    );
    const secs = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const total = bytes.reduce((a, b) => a + b, 0);
    return {
      history_mb: Math.round(bytes[0]! / 1e6),
      watchers: 20,
      seconds: Math.round(secs * 100) / 100,
      mb_per_s: Math.round(total / 1e6 / secs),
      rss_before_mb: Math.round(rssBefore),
      rss_peak_mb: Math.round(peak),
    };
  } finally {
    await server.stop();
  }
}

async function main() {
  const { plain, tokens, tokens_tls: tls } = await writes();
  const overhead = (x: { p50_ms: number }) => Math.round((x.p50_ms / plain.p50_ms - 1) * 1000) / 10;
  const result = {
    writes: N,
    concurrency: C,
    plain,
    tokens: { ...tokens, p50_overhead_pct: overhead(tokens) },
    tokens_tls: { ...tls, p50_overhead_pct: overhead(tls) },
    replay: await replay(),
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const row = (name: string, r: { per_s: number; p50_ms: number; p99_ms: number; p50_overhead_pct?: number }) =>
      `  ${name.padEnd(22)} ${String(r.per_s).padStart(6)}/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms${r.p50_overhead_pct === undefined ? '' : `  (${r.p50_overhead_pct > 0 ? '+' : ''}${r.p50_overhead_pct} % p50)`}`;
    process.stdout.write(
      [
        `writes (network display names): ${N} per configuration from ${C} clients, in alternating rounds`,
        row('local trust, http', result.plain),
        row('tokens, http', result.tokens),
        row('tokens, https', result.tokens_tls),
        `feed replay: ${result.replay.watchers} watchers × ${result.replay.history_mb} MB from revision 0 in ${result.replay.seconds} s (${result.replay.mb_per_s} MB/s in all); server RSS ${result.replay.rss_before_mb} → peak ${result.replay.rss_peak_mb} MB`,
      ].join('\n') + '\n',
    );
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
