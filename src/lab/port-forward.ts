// Reaching a TCP port of one lab namespace from another: a pair of forwarder.ts processes joined by a unix socket.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LabContext } from './context.js';
import { LabInputError } from './errors.js';
import { type LabProcess, spawnProcess, waitLog } from './processes.js';

export interface ForwardOptions {
  /** Where the new listener lives: a node (host, VM, `ul`, `root`) and a TCP port on its 127.0.0.1. */
  from: { node: string; port: number; host?: string };
  /** What it reaches: a TCP port in another node's namespace. */
  to: { node: string; port: number; host?: string };
}

/**
 * Namespaces share no loopback: a listener on `from.host:from.port` in `from.node` forwards each
 * connection through a unix socket in the run dir to `to.host:to.port` in `to.node`. Returns the two
 * forwarder processes (stopped by down()).
 */
export async function forward(ctx: LabContext, opts: ForwardOptions): Promise<LabProcess[]> {
  const { from, to } = opts;
  for (const [f, v] of [
    ['from.port', from.port],
    ['to.port', to.port],
  ] as const)
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new LabInputError(f, `${v} is not a TCP port`);
  ctx.nodeNetns(from.node);
  ctx.nodeNetns(to.node);
  const id = `fwd-${from.node}-${from.port}-${to.node}-${to.port}`;
  const sock = join(ctx.state.dir, 'fwd', `${id}.sock`);
  mkdirSync(join(ctx.state.dir, 'fwd'), { recursive: true });
  const script = fileURLToPath(
    new URL(`./forwarder.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
  );
  const node = [process.execPath, ...tsxImport(), script];
  const out = await spawnProcess(ctx, to.node, `${id}-out`, [
    ...node,
    `unix:${sock}`,
    `tcp:${to.host ?? '127.0.0.1'}:${to.port}`,
  ]);
  await waitLog(out, 'listening', 10000);
  const inn = await spawnProcess(ctx, from.node, `${id}-in`, [
    ...node,
    `tcp:${from.host ?? '127.0.0.1'}:${from.port}`,
    `unix:${sock}`,
  ]);
  await waitLog(inn, 'listening', 10000);
  return [out, inn];
}

/** The tsx loader when running from TypeScript sources (tests, dev), else nothing (compiled dist/). */
function tsxImport(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [];
  return ['--import', import.meta.resolve('tsx')];
}
