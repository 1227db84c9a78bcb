// Long-running processes the lab starts in its namespaces (agents, servers, forwarders): start, find, wait for, stop.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLabProcess, procStartTime, terminate } from './cleanup.js';
import type { LabContext } from './context.js';
import { LabError, LabInputError, LabTimeoutError, LabUnknownNodeError } from './errors.js';
import { spawnDetached } from './exec.js';
import type { ProcState } from './state.js';

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run in the lab's mount namespace, as a daemon on a host does (exec.ts daemonArgv); default: a private one. */
  sharedMounts?: boolean;
}

/** A long-running process the lab started (agent, server, forwarder); stopped by stop() or lab.down(). */
export interface LabProcess {
  readonly node: string;
  readonly name: string;
  readonly pid: number;
  /** stdout+stderr of the process. */
  readonly log: string;
  alive(): boolean;
  /** Last `lines` lines of the log. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * Start a long-running process in a node's namespace, detached, with stdout+stderr in
 * `<run dir>/<node>/<name>.log`. Found by cleanup after a crash (its environment carries the marker).
 */
export async function spawnProcess(
  ctx: LabContext,
  node: string,
  name: string,
  cmd: string[],
  opts: SpawnOptions = {},
): Promise<LabProcess> {
  const s = ctx.state;
  const netns = ctx.nodeNetns(node);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
    throw new LabInputError('name', `'${name}' must match [A-Za-z0-9_.-]{1,64}`);
  if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
  const old = s.procs.find((p) => p.node === node && p.name === name);
  if (old) {
    if (isRunning(old)) throw new LabInputError('name', `a process '${name}' already runs in ${node} (pid ${old.pid})`);
    s.procs = s.procs.filter((p) => p !== old);
  }
  const dir = join(s.dir, node);
  mkdirSync(dir, { recursive: true });
  const log = join(dir, `${name}.log`);
  writeFileSync(log, '');
  const pid = spawnDetached(netns, cmd, log, ctx.markedEnv(opts.env), {
    cwd: opts.cwd,
    sharedMounts: opts.sharedMounts,
  });
  // The start time pins the pid to this process: a recycled pid is never signalled later.
  let startTime = procStartTime(pid);
  for (let i = 0; startTime === undefined && i < 20; i++) {
    await sleep(5);
    startTime = procStartTime(pid);
  }
  const p: ProcState = { node, name, pid, startTime: startTime ?? '', log, cmd };
  writeFileSync(join(dir, `${name}.pid`), `${pid}\n`);
  s.procs.push(p);
  ctx.save();
  return handle(ctx, p);
}

/** The lab processes known by state. */
export function processHandles(ctx: LabContext): LabProcess[] {
  return ctx.state.procs.map((p) => handle(ctx, p));
}

/** Whether the process recorded in state still runs (the same process, not a recycled pid). */
export function isRunning(p: ProcState): boolean {
  return procStartTime(p.pid) === p.startTime;
}

/** Stop one spawned process by node and name. */
export async function stopProcess(ctx: LabContext, node: string, name: string): Promise<void> {
  const s = ctx.state;
  const p = s.procs.find((x) => x.node === node && x.name === name);
  if (!p)
    throw new LabUnknownNodeError(
      'process',
      `${node}/${name}`,
      s.procs.map((x) => `${x.node}/${x.name}`),
    );
  await stopProcesses(ctx, (x) => x === p);
  ctx.save();
}

/** Stop the processes `which` selects, side by side, and drop them from the state (not saved); returns the pids signalled. */
export async function stopProcesses(ctx: LabContext, which: (p: ProcState) => boolean): Promise<number[]> {
  const s = ctx.state;
  const chosen = s.procs.filter(which);
  const killed = (await Promise.all(chosen.map((p) => stopProc(p, s.dir)))).flat();
  s.procs = s.procs.filter((p) => !chosen.includes(p));
  return killed;
}

/** Wait until a process prints `text` (throws if it exits first or `ms` pass). */
export async function waitLog(p: LabProcess, text: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (logTail(p.log, 50).includes(text)) return;
    if (!p.alive()) throw new LabError('VNET_LAB_PROCESS_DIED', `${p.node}/${p.name} exited: ${p.logTail(10)}`);
    await sleep(20);
  }
  throw new LabTimeoutError(`${p.node}/${p.name} to print '${text}'`, ms);
}

/** The last `lines` lines of a log file ('' if there is none). */
export function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

function handle(ctx: LabContext, p: ProcState): LabProcess {
  return {
    node: p.node,
    name: p.name,
    pid: p.pid,
    log: p.log,
    alive: () => isRunning(p),
    logTail: (lines = 20) => logTail(p.log, lines),
    stop: () => stopProcess(ctx, p.node, p.name),
  };
}

/** TERM (then KILL) a spawned process and its process group, only if it is still the one we started. */
async function stopProc(p: ProcState, labDir: string): Promise<number[]> {
  if (!isRunning(p) || !isLabProcess(p.pid, labDir)) return [];
  try {
    // Detached → its own process group: children (e.g. of a shell wrapper) go with it.
    process.kill(-p.pid, 'SIGTERM');
  } catch {
    /* not a group leader any more */
  }
  return terminate([p.pid]);
}
