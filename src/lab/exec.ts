// Running commands for the lab: in the root namespace or inside a lab netns, short-lived or detached.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { LabCommandError } from './errors.js';

/** Environment variable set on every process the lab starts, so cleanup can find them by pid after a crash. */
export const LAB_MARKER_ENV = 'VNET_LAB_DIR';

export interface ExecResult {
  /** Exit status; null when killed by a signal (then `signal` is set). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** code === 0 */
  ok: boolean;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the command after this many ms (SIGKILL); default none. */
  timeoutMs?: number;
  /** Data written to the command's stdin. */
  input?: string;
}

/** The argv prefix that runs a command inside `netns` (none for the root namespace). */
export function nsArgv(netns: string | undefined, cmd: string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...cmd] : cmd;
}

/** Run `cmd` (in `netns` if given); never throws for a non-zero exit, only returns it. */
export function execIn(netns: string | undefined, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const argv = nsArgv(netns, cmd);
  return new Promise((resolve) => {
    const child = execFile(
      argv[0]!,
      argv.slice(1),
      {
        env: opts.env ?? process.env,
        maxBuffer: 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 0,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        // execFile reports spawn failures (ENOENT) with a string code: surface them as exit 127 like a shell.
        const code = e ? (typeof e.code === 'number' ? e.code : e.signal ? null : 127) : 0;
        resolve({
          code,
          signal: e?.signal ?? null,
          stdout: String(stdout),
          stderr: String(stderr) || (e && typeof e.code === 'string' ? e.message : ''),
          ok: code === 0,
        });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Run `cmd` (in `netns` if given) and return stdout; throws LabCommandError on a non-zero exit. */
export async function runIn(netns: string | undefined, cmd: string[], opts: ExecOptions = {}): Promise<string> {
  const r = await execIn(netns, cmd, opts);
  if (!r.ok) throw new LabCommandError(nsArgv(netns, cmd), r.code, r.stderr || r.stdout);
  return r.stdout;
}

/**
 * The argv prefix that runs a daemon inside `netns` as on a host of its own: in that network namespace only, in
 * the lab's mount namespace. `ip netns exec` gives each command a private mount namespace, so a namespace the
 * daemon names with `ip netns add` (the agent's metadata namespace) would end with the daemon, as on no real host.
 */
export function daemonArgv(netns: string | undefined, cmd: string[]): string[] {
  return netns ? ['nsenter', `--net=/var/run/netns/${netns}`, '--', ...cmd] : cmd;
}

/**
 * Start `cmd` detached (own process group) with stdout+stderr appended to `logFile`; returns its pid.
 * `sharedMounts`: in the lab's mount namespace (daemonArgv), not a private one (nsArgv).
 */
export function spawnDetached(
  netns: string | undefined,
  cmd: string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string | undefined; sharedMounts?: boolean | undefined } = {},
): number {
  const argv = opts.sharedMounts ? daemonArgv(netns, cmd) : nsArgv(netns, cmd);
  const { cwd } = opts;
  const fd = openSync(logFile, 'a');
  try {
    // `ip netns exec` and `nsenter --net` exec the command, so the pid we get is the command's own pid.
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env, cwd });
    if (child.pid === undefined) throw new LabCommandError(argv, null, `could not start ${argv[0]}`);
    child.on('error', () => {
      /* reported through the missing pid / the log file */
    });
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}
