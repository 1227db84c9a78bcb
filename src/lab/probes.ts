// Reachability probes between lab nodes: one ping run, or pinging until the first reply.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabContext } from './context.js';
import type { ExecResult } from './exec.js';

export interface PingOptions {
  /** Echo requests to send (default 1). */
  count?: number;
  /** Seconds between requests (default 0.2). */
  intervalS?: number;
  /** Seconds to wait for each reply (default 2). */
  timeoutS?: number;
}

export interface PingResult {
  /** Every request got a reply. */
  ok: boolean;
  sent: number;
  received: number;
  /** Average round-trip time in ms (undefined when nothing came back). */
  rttMs?: number;
  /** Wall time until success (waitPing) or of the ping run. */
  elapsedMs: number;
  output: string;
}

/** Parse `ping` output: transmitted/received counts and the average RTT. */
export function parsePing(output: string): { sent: number; received: number; rttMs?: number } {
  const c = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  const out: { sent: number; received: number; rttMs?: number } = {
    sent: c ? Number(c[1]) : 0,
    received: c ? Number(c[2]) : 0,
  };
  if (rtt) out.rttMs = Number(rtt[1]);
  return out;
}

/** `ping` from a node: success means every request was answered; RTT is the average. */
export async function ping(ctx: LabContext, node: string, dst: string, opts: PingOptions = {}): Promise<PingResult> {
  const count = opts.count ?? 1;
  const t0 = Date.now();
  const r = await ctx.exec(node, [
    'ping',
    '-n',
    '-c',
    String(count),
    '-i',
    String(opts.intervalS ?? 0.2),
    '-W',
    String(opts.timeoutS ?? 2),
    dst,
  ]);
  const p = parsePing(r.stdout);
  return { ...p, ok: r.ok && p.received === count, elapsedMs: Date.now() - t0, output: r.stdout + r.stderr };
}

/** Ping until the first reply or `timeoutMs` (default 20 s): a request every 50 ms, restarted if ping gives up. */
export async function waitPing(
  ctx: LabContext,
  node: string,
  dst: string,
  opts: { timeoutMs?: number } = {},
): Promise<PingResult> {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const t0 = Date.now();
  let last: ExecResult | undefined;
  for (;;) {
    const left = Math.ceil((t0 + timeoutMs - Date.now()) / 1000);
    if (left <= 0) break;
    last = await ctx.exec(node, ['ping', '-n', '-c', '1', '-i', '0.05', '-w', String(left), dst]);
    if (last.ok) {
      const p = parsePing(last.stdout);
      return { ...p, ok: true, elapsedMs: Date.now() - t0, output: last.stdout };
    }
    await sleep(20);
  }
  const p = last ? parsePing(last.stdout) : { sent: 0, received: 0 };
  return { ...p, ok: false, elapsedMs: Date.now() - t0, output: last ? last.stdout + last.stderr : '' };
}
