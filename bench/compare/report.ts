// Benchmark report model and writers: metric rows (vnet, OVN, ratio, note), markdown table and JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';

/** One compared figure. A missing value is null and the note says why (never an invented figure). */
export interface MetricRow {
  /** Issue 8 metric number (1–7) and what exactly was measured. */
  metric: number;
  name: string;
  unit: string;
  vnet: number | null;
  ovn: number | null;
  /** Optional third column: the bare NORMAL/hand-made-flow bridge (throughput) or OVN Geneve. */
  other?: { label: string; value: number | null } | undefined;
  note?: string | undefined;
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; loadavgStart: number[]; loadavgEnd: number[]; kernel: string };
  encap: string;
  rows: MetricRow[];
  /** Phases that failed or were skipped, with the reason (the honest gaps). */
  gaps: string[];
  /** Raw per-phase data for later analysis. */
  raw: Record<string, unknown>;
}

/** vnet / OVN; null when either side is missing or OVN is zero. */
export function ratio(vnet: number | null, ovn: number | null): number | null {
  if (vnet === null || ovn === null || ovn === 0) return null;
  return vnet / ovn;
}

export function percentile(xs: readonly number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  // Nearest-rank: p50 of an even count is the upper middle, close enough for small samples.
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function toMarkdown(r: Report): string {
  const lines: string[] = [];
  lines.push(`# vnet vs OVN — ${r.quick ? 'quick' : 'full'} run`);
  lines.push('');
  lines.push(
    `Run ${r.startedAt} → ${r.finishedAt}; machine: ${r.machine.cpus} vCPU, ${r.machine.kernel}; ` +
      `load average at start ${r.machine.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, at end ${r.machine.loadavgEnd
        .map((x) => x.toFixed(2))
        .join(' ')}. Encapsulation: ${r.encap}. Ratio = vnet / OVN (same run).`,
  );
  lines.push('');
  lines.push('| # | metric | unit | vnet | OVN | vnet/OVN | other | note |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const m of r.rows) {
    const other = m.other ? `${m.other.label}: ${fmt(m.other.value)}` : '';
    lines.push(
      `| ${m.metric} | ${m.name} | ${m.unit} | ${fmt(m.vnet)} | ${fmt(m.ovn)} | ${fmt(ratio(m.vnet, m.ovn))} | ${other} | ${m.note ?? ''} |`,
    );
  }
  lines.push('');
  if (r.gaps.length > 0) {
    lines.push('## Gaps (not measured in this run, and why)');
    lines.push('');
    for (const g of r.gaps) lines.push(`- ${g}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function machineInfo(): { cpus: number; loadavg: number[]; kernel: string } {
  return {
    cpus: availableParallelism(),
    loadavg: loadavg(),
    kernel: `${process.platform} ${release()}`,
  };
}

/** Writes `<dir>/bench-<stamp>.{json,md}` and returns both paths. */
export function writeReport(r: Report, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '').replace(/-/g, '').slice(0, 15);
  const json = join(dir, `bench-${stamp}.json`);
  const md = join(dir, `bench-${stamp}.md`);
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(md, `${toMarkdown(r)}\n`);
  return { json, md };
}
