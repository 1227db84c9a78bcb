// Packet capture for proofs: count what tcpdump sees on an interface of a lab node while an action runs.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabContext } from './context.js';
import { LabError, LabTimeoutError } from './errors.js';
import { nsArgv } from './exec.js';

export interface CaptureOptions {
  /** Wait this long after the action for late packets (default 300 ms). */
  settleMs?: number;
  /** Give up starting tcpdump after this long (default 5000 ms). */
  startTimeoutMs?: number;
}

export interface CaptureResult<T> {
  /** Packets matching the filter seen on the interface during the action. */
  count: number;
  /** tcpdump's one-line summaries (-n -e), for failure reports. */
  lines: string[];
  result: T;
}

/** capture()'s arguments after the lab's context, named once here for it and for Lab.capture. */
export type CaptureArgs<T> = [
  node: string,
  iface: string,
  filter: string,
  action: () => Promise<T>,
  opts?: CaptureOptions,
];

/**
 * Count packets matching a tcpdump `filter` on `iface` in `node`'s namespace while `action` runs,
 * e.g. `capture(ctx, 'ul', 'ul-h1', 'ip proto 47', () => vm.ping(...))` proves the ping went over GRE.
 */
export async function capture<T>(
  ctx: LabContext,
  ...[node, iface, filter, action, opts = {}]: CaptureArgs<T>
): Promise<CaptureResult<T>> {
  const argv = nsArgv(ctx.nodeNetns(node), [
    'tcpdump',
    '-i',
    iface,
    '-n',
    '-e',
    '-l',
    '--immediate-mode',
    ...(filter ? [filter] : []),
  ]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: ctx.markedEnv() });
  let out = '';
  let err = '';
  // A missing binary is reported through the exit check below, not as an uncaught 'error' event.
  child.on('error', (e) => {
    err += e.message;
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const stopDump = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  try {
    const startBy = Date.now() + (opts.startTimeoutMs ?? 5000);
    while (!err.includes('listening on')) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new LabError('VNET_LAB_CAPTURE_FAILED', `tcpdump on ${node}/${iface} failed: ${err.trim()}`);
      if (Date.now() > startBy)
        throw new LabTimeoutError(`tcpdump on ${node}/${iface} to start`, opts.startTimeoutMs ?? 5000);
      await sleep(10);
    }
    const result = await action();
    await sleep(opts.settleMs ?? 300);
    await stopDump();
    const lines = packetLines(out);
    return { count: lines.length, lines, result };
  } finally {
    await stopDump();
  }
}

/**
 * One entry per packet from tcpdump's output: a packet starts with its timestamp; tcpdump prints the
 * inner frame of some encapsulations (VXLAN) on a line of its own, which belongs to the packet above.
 */
export function packetLines(out: string): string[] {
  const packets: string[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\d{2}:\d{2}:\d{2}\.\d+ /.test(line) || packets.length === 0) packets.push(line);
    else packets[packets.length - 1] += ` ${line.trim()}`;
  }
  return packets;
}
