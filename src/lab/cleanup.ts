// Finding and removing what a lab left behind (after down() or a crash): processes, namespaces, interfaces, run dirs.
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { execIn } from './exec.js';
import { LAB_MARKER_ENV } from './exec.js';
import { labDir } from './state.js';
import { checkPrefix } from './topology.js';

export interface CleanupReport {
  prefix: string;
  /** Pids signalled (TERM, then KILL if they did not exit). */
  killed: number[];
  namespaces: string[];
  /** Interfaces removed from the root namespace (none unless something went badly wrong). */
  links: string[];
  dirs: string[];
}

/** /proc/<pid>/stat start time (field 22), or undefined if the process is gone. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process belongs to the lab whose run dir is `dir`: its cmdline names the dir or it carries our marker. */
export function isLabProcess(pid: number, dir: string): boolean {
  if (readProc(pid, 'cmdline').replaceAll('\0', ' ').includes(`${dir}/`)) return true;
  return readProc(pid, 'environ').split('\0').includes(`${LAB_MARKER_ENV}=${dir}`);
}

function ancestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const stat = readProc(pid, 'stat');
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(pid)) break;
  }
  return out;
}

/** Names of the lab's network namespaces (`<prefix>-*`). */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const r = await execIn(undefined, ['ip', '-json', 'netns', 'list']);
  if (!r.ok || !r.stdout.trim()) return [];
  const list = JSON.parse(r.stdout) as { name: string }[];
  return list.map((n) => n.name).filter((n) => n.startsWith(`${prefix}-`));
}

function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/**
 * Pids of processes of the lab: cmdline naming /tmp/<prefix>/, our marker in the environment, or
 * living in one of the lab's namespaces. Never this process or its ancestors.
 */
export function findLabProcesses(prefix: string, namespaces: string[]): number[] {
  const dir = labDir(prefix);
  const inodes = new Set(namespaces.map(netnsInode).filter((i): i is number => i !== undefined));
  const skip = ancestors();
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (skip.has(pid)) continue;
    let mine = isLabProcess(pid, dir);
    if (!mine && inodes.size > 0) {
      try {
        const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
        mine = m !== null && inodes.has(Number(m[1]));
      } catch {
        /* gone, or a kernel thread */
      }
    }
    if (mine) out.push(pid);
  }
  return out;
}

/** TERM the given pids, wait up to `graceMs`, then KILL those that are still the same process. */
export async function terminate(pids: number[], graceMs = 3000): Promise<number[]> {
  const started = new Map<number, string>();
  for (const pid of pids) {
    const st = procStartTime(pid);
    if (st === undefined) continue;
    try {
      process.kill(pid, 'SIGTERM');
      started.set(pid, st);
    } catch {
      /* already gone */
    }
  }
  const same = (pid: number) => procStartTime(pid) === started.get(pid);
  const deadline = Date.now() + graceMs;
  while ([...started.keys()].some(same) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const pid of [...started.keys()].filter(same)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // A KILLed process may be a zombie for a moment; wait for it to be reaped by its parent.
  const reap = Date.now() + 1000;
  while ([...started.keys()].some((p) => same(p) && !readProc(p, 'stat').includes(') Z ')) && Date.now() < reap)
    await new Promise((r) => setTimeout(r, 20));
  return [...started.keys()];
}

/** Temporary veth names the lab uses (`<prefix>_<n>a|b`; `_` cannot occur in a prefix, so one lab never matches another's); they only ever exist inside lab namespaces. */
export function tmpLinkPattern(prefix: string): RegExp {
  return new RegExp(`^${prefix}_[0-9a-z]+[ab]$`);
}

/**
 * Remove every trace of the lab with this prefix, whether or not its state file survived:
 * processes first (so namespaces really go away), then namespaces, stray links, the run dir.
 */
export async function cleanupLeftovers(prefix: string): Promise<CleanupReport> {
  checkPrefix(prefix);
  const report: CleanupReport = { prefix, killed: [], namespaces: [], links: [], dirs: [] };
  const namespaces = await labNamespaces(prefix);
  report.killed = await terminate(findLabProcesses(prefix, namespaces));
  for (const ns of namespaces) {
    const r = await execIn(undefined, ['ip', 'netns', 'del', ns]);
    if (r.ok) report.namespaces.push(ns);
  }
  const links = await execIn(undefined, ['ip', '-json', 'link', 'show']);
  if (links.ok && links.stdout.trim()) {
    const pattern = tmpLinkPattern(prefix);
    for (const l of JSON.parse(links.stdout) as { ifname: string }[]) {
      if (!pattern.test(l.ifname)) continue;
      const r = await execIn(undefined, ['ip', 'link', 'del', l.ifname]);
      if (r.ok) report.links.push(l.ifname);
    }
  }
  const dir = labDir(prefix);
  try {
    statSync(dir);
    rmSync(dir, { recursive: true, force: true });
    report.dirs.push(dir);
  } catch {
    /* no run dir */
  }
  return report;
}
