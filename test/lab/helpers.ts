// Helpers for the lab's own tests: unique prefixes, leftover probes, failure reports.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Lab } from '../../src/lab/lab.js';

/** A lab prefix unique to this test process (≤ 8 chars, no '-'). */
export function testPrefix(tag: string): string {
  return `t${process.pid.toString(36)}${tag}`.slice(0, 8);
}

/** Namespaces of a prefix that exist now. */
export function namespacesOf(prefix: string): string[] {
  const r = spawnSync('ip', ['-json', 'netns', 'list'], { encoding: 'utf8' });
  if (!r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name).filter((n) => n.startsWith(`${prefix}-`));
}

/** Interface names in the root namespace. */
export function rootLinks(): string[] {
  const r = spawnSync('ip', ['-json', 'link', 'show'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname).sort();
}

/** Pids whose cmdline names /tmp/<prefix>/ or whose environment carries the lab marker. */
export function processesOf(prefix: string): number[] {
  const dir = `/tmp/${prefix}`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const env = readFileSync(`/proc/${e}/environ`, 'utf8').split('\0');
      if (cmd.includes(`${dir}/`) || env.includes(`VNET_LAB_DIR=${dir}`)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    // A zombie still has /proc/<pid>; count only running processes.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Everything left of a prefix (empty lists when clean). */
export function leftovers(prefix: string): {
  namespaces: string[];
  processes: number[];
  dir: boolean;
  links: string[];
} {
  return {
    namespaces: namespacesOf(prefix),
    processes: processesOf(prefix),
    dir: existsSync(`/tmp/${prefix}`),
    links: rootLinks().filter((l) => l.startsWith(prefix)),
  };
}

/** Failure report for a dataplane assertion: flows, neighbours, logs and a trace of src→dst. */
export async function report(lab: Lab, src?: string, dst?: string): Promise<string> {
  let text = await lab.diagnostics();
  if (src && dst) {
    const a = lab.vm(src);
    const b = lab.vm(dst);
    const flow = `in_port=${a.port},dl_src=${a.mac},dl_dst=${b.mac},dl_type=0x0800,nw_src=${a.ip},nw_dst=${b.ip},nw_proto=1`;
    try {
      text += `\n--- ofproto/trace on ${a.host}\n${await lab.trace(a.host, flow)}`;
    } catch (err) {
      text += `\n--- trace failed: ${(err as Error).message}`;
    }
  }
  return text;
}
