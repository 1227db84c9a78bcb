// CPU seconds and RSS of a process from /proc, the same way the OVN lab's proc_stats does it
// (sum of /proc/PID/task/*/schedstat, ns resolution; VmRSS), so both sides are measured alike.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  cpuS: number | null;
  rssMiB: number | null;
  /** VmHWM: the peak RSS over the process's life. */
  peakMiB: number | null;
}

export function procStat(pid: number | null | undefined): ProcStat {
  if (!pid) return { cpuS: null, rssMiB: null, peakMiB: null };
  try {
    let ns = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        /* thread ended between readdir and read */
      }
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number | null => {
      const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status);
      return m ? Number(m[1]) / 1024 : null;
    };
    return { cpuS: ns / 1e9, rssMiB: kb('VmRSS'), peakMiB: kb('VmHWM') };
  } catch {
    return { cpuS: null, rssMiB: null, peakMiB: null };
  }
}
