// A private ovsdb-server + ovs-vswitchd (own run dir, sockets, logs), optionally inside a netns.
// Used by the lab hosts and by the OVS-tier tests. ovs-vsctl/ovs-ofctl here are lab tooling
// for looking and setting up, never used by the product itself.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const pexec = promisify(execFile);
const SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

export interface OvsInstanceOptions {
  /** Run directory (created; removed by stop()). Must be under /tmp or /run. */
  dir: string;
  /** Network namespace to run ovs-vswitchd in (ovsdb-server too). Absent: the caller's. */
  netns?: string;
  /** `--enable-dummy=override`: every datapath is the dummy one (no netns traffic, packet injection). */
  dummy?: boolean;
  /** Extra TCP remote for ovsdb-server, e.g. `ptcp:6640:127.0.0.1`. */
  ovsdbTcp?: string;
  /** An SSL remote for ovsdb-server on 127.0.0.1:`port`, with its key, certificate and client CA (files). */
  ovsdbSsl?: { port: number; key: string; cert: string; ca: string };
}

export interface OvsInstance {
  readonly dir: string;
  readonly netns: string | undefined;
  /** unix socket of ovsdb-server (what the agent's --ovsdb points at: `unix:<dbSock>`). */
  readonly dbSock: string;
  readonly env: NodeJS.ProcessEnv;
  vsctl(...args: string[]): Promise<string>;
  ofctl(...args: string[]): Promise<string>;
  /** ovs-appctl against ovs-vswitchd. */
  appctl(...args: string[]): Promise<string>;
  /** Paths of the daemons' log files (for failure reports). */
  logs(): { ovsdb: string; vswitchd: string };
  stop(): Promise<void>;
}

function nsPrefix(netns: string | undefined): string[] {
  return netns ? ['ip', 'netns', 'exec', netns] : [];
}

async function run(cmd: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const [file, ...args] = cmd;
  try {
    const { stdout } = await pexec(file!, args, { env, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** Start ovsdb-server and ovs-vswitchd with everything private to `dir`. */
export async function startOvs(opts: OvsInstanceOptions): Promise<OvsInstance> {
  const { dir, netns } = opts;
  if (!/^\/(tmp|run)\//.test(dir)) throw new Error(`OVS instance dir must be under /tmp or /run: ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = ovsEnv(dir);
  const dbSock = join(dir, 'db.sock');
  const pre = nsPrefix(netns);
  try {
    await launch(opts, dir, dbSock, pre, env);
  } catch (err) {
    // A half-started instance (ovsdb-server up, ovs-vswitchd failed) must not outlive the failure.
    await stopOvs(dir);
    throw err;
  }
  return makeInstance(dir, netns, env);
}

async function launch(
  opts: OvsInstanceOptions,
  dir: string,
  dbSock: string,
  pre: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  await run(['ovsdb-tool', 'create', join(dir, 'conf.db'), SCHEMA], env);
  const remotes = [`--remote=punix:${dbSock}`, '--remote=db:Open_vSwitch,Open_vSwitch,manager_options'];
  if (opts.ovsdbTcp) remotes.push(`--remote=${opts.ovsdbTcp}`);
  if (opts.ovsdbSsl) {
    const t = opts.ovsdbSsl;
    remotes.push(
      `--remote=pssl:${t.port}:127.0.0.1`,
      `--private-key=${t.key}`,
      `--certificate=${t.cert}`,
      `--ca-cert=${t.ca}`,
    );
  }
  await run([...pre, 'ovsdb-server', join(dir, 'conf.db'), ...remotes, ...daemonArgs(dir, 'ovsdb-server')], env);
  const vsctlBase = ['ovs-vsctl', `--db=unix:${dbSock}`, '--timeout=10'];
  await run([...vsctlBase, '--no-wait', 'init'], env);
  await run(
    [
      ...pre,
      'ovs-vswitchd',
      `unix:${dbSock}`,
      '--disable-system',
      ...(opts.dummy ? ['--enable-dummy=override'] : []),
      ...daemonArgs(dir, 'ovs-vswitchd'),
    ],
    env,
  );
}

/** A daemon's pidfile, control socket and log, all in `dir` (how cleanup and ovsAlive find it). */
function daemonArgs(dir: string, name: 'ovsdb-server' | 'ovs-vswitchd'): string[] {
  return [
    `--pidfile=${join(dir, `${name}.pid`)}`,
    `--unixctl=${join(dir, `${name}.ctl`)}`,
    `--log-file=${join(dir, `${name}.log`)}`,
    '--detach',
    '--no-chdir',
  ];
}

function ovsEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir };
}

function makeInstance(dir: string, netns: string | undefined, env: NodeJS.ProcessEnv): OvsInstance {
  const dbSock = join(dir, 'db.sock');
  const vsctlBase = ['ovs-vsctl', `--db=unix:${dbSock}`, '--timeout=10'];
  return {
    dir,
    netns,
    dbSock,
    env,
    vsctl: (...args) => run([...vsctlBase, ...args], env),
    // ovs-ofctl reaches a bridge through its mgmt socket in OVS_RUNDIR; no netns needed.
    ofctl: (...args) => run(['ovs-ofctl', '-O', 'OpenFlow13', ...args], env),
    appctl: (...args) => run(['ovs-appctl', '-t', join(dir, 'ovs-vswitchd.ctl'), ...args], env),
    logs: () => ({ ovsdb: join(dir, 'ovsdb-server.log'), vswitchd: join(dir, 'ovs-vswitchd.log') }),
    stop: () => stopOvs(dir),
  };
}

/**
 * A handle on an instance that startOvs() started earlier, possibly in another process (the lab
 * CLI reloads its hosts from lab.json). Does not check that the daemons still run: see ovsAlive().
 */
export function attachOvs(opts: { dir: string; netns?: string }): OvsInstance {
  return makeInstance(opts.dir, opts.netns, ovsEnv(opts.dir));
}

/** Pids of the instance's daemons that are alive (pidfile in `dir` and cmdline naming `dir`). */
export function ovsAlive(dir: string): { ovsdb?: number; vswitchd?: number } {
  const out: { ovsdb?: number; vswitchd?: number } = {};
  for (const [key, name] of [
    ['ovsdb', 'ovsdb-server'],
    ['vswitchd', 'ovs-vswitchd'],
  ] as const) {
    const pid = readPid(join(dir, `${name}.pid`));
    if (!pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) out[key] = pid;
    } catch {
      /* not running */
    }
  }
  return out;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Kill only processes whose pidfile is in `dir` and whose command line names `dir`. */
export function killDaemonsIn(dir: string): number[] {
  const killed: number[] = [];
  for (const name of ['ovs-vswitchd', 'ovsdb-server']) {
    const pid = readPid(join(dir, `${name}.pid`));
    if (!pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (!cmdline.includes(dir)) continue;
    try {
      process.kill(pid, 'SIGTERM');
      killed.push(pid);
    } catch {
      /* already gone */
    }
  }
  return killed;
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Stop the daemons of a run directory (TERM, then KILL after 3 s) and remove the directory. */
export async function stopOvs(dir: string): Promise<void> {
  const pids = killDaemonsIn(dir);
  const deadline = Date.now() + 3000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
