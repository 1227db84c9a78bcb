// The reachability matrix of the seed layout: ping every target from every VM, check that the VM
// that answered is the intended one (overlapping addresses), and print expected vs seen.
import { expectedReachable, type MatrixTarget, matrixTargets, SEED_VMS, type SeedVm } from './seed.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
/** Runs a command inside a VM's namespace. */
export type VmExec = (vm: string, argv: string[]) => Promise<ExecResult>;

export interface Cell {
  src: string;
  target: string;
  expected: boolean;
  seen: boolean;
  /** Why `seen` is what it is when it surprises (wrong VM answered, …). */
  note?: string;
}

export interface MatrixResult {
  cells: Cell[];
  wrong: Cell[];
}

export interface MatrixOptions {
  /** How long a cell that should work may take to start working (convergence), ms. */
  deadlineMs?: number;
  /** VMs to test from (default: all six). */
  vms?: readonly SeedVm[];
}

async function ping(exec: VmExec, vm: string, ip: string): Promise<boolean> {
  const r = await exec(vm, ['ping', '-n', '-q', '-c', '1', '-W', '1', ip]);
  return r.code === 0;
}

/** ICMP echo requests a VM's kernel has received (Icmp InEchos of its netns's /proc/net/snmp). */
async function inEchos(exec: VmExec, vm: string): Promise<number> {
  const r = await exec(vm, ['cat', '/proc/net/snmp']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Icmp:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf('InEchos');
  const v = i < 0 ? Number.NaN : Number(values[i]);
  if (!Number.isFinite(v)) throw new Error(`cannot read InEchos of ${vm}: ${r.stderr || r.stdout.slice(0, 200)}`);
  return v;
}

/**
 * One ping at a time per destination address: with overlapping ranges several VMs share an address,
 * and only then does a VM's echo counter tell whose ping arrived.
 */
class Locks {
  private readonly tails = new Map<string, Promise<void>>();
  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    this.tails.set(
      key,
      prev.then(() => next),
    );
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/**
 * A cell is seen when the target VM itself received the echo request (its own counter moved) and,
 * for cells that should work, the reply came back. With overlapping addresses a reply alone proves
 * nothing: 172.16.1.2 answers from ns2 in net1 and from ns6 in net3.
 */
async function checkCell(
  exec: VmExec,
  locks: Locks,
  src: SeedVm,
  target: MatrixTarget,
  deadline: number,
): Promise<Cell> {
  const expected = expectedReachable(src, target);
  const cell: Cell = { src: src.name, target: target.label, expected, seen: false };
  // A cell that should work gets until the deadline (convergence); one that should not gets one
  // honest try.
  do {
    if (!target.vm) {
      cell.seen = await ping(exec, src.name, target.ip);
    } else {
      const vm = target.vm;
      const r = await locks.with(target.ip, async () => {
        const before = await inEchos(exec, vm.name);
        const ok = await ping(exec, src.name, target.ip);
        return { ok, arrived: (await inEchos(exec, vm.name)) > before };
      });
      cell.seen = expected ? r.ok && r.arrived : r.arrived;
      if (r.ok && !r.arrived) cell.note = `answered, but not by ${vm.name}`;
      else if (!r.ok && r.arrived) cell.note = `request reached ${vm.name}, no reply came back`;
    }
    if (cell.seen || !expected) break;
  } while (Date.now() < deadline);
  return cell;
}

/** Runs the whole matrix (sources in parallel, targets of one source in turn). */
export async function runMatrix(exec: VmExec, opts: MatrixOptions = {}): Promise<MatrixResult> {
  const deadline = Date.now() + (opts.deadlineMs ?? 10_000);
  const vms = opts.vms ?? SEED_VMS;
  const targets = matrixTargets();
  const locks = new Locks();
  const rows = await Promise.all(
    vms.map(async (src, i) => {
      const out: Cell[] = [];
      // Each source starts at a different column so the per-address locks rarely collide.
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(i + k) % targets.length]!;
        if (t.vm === src) continue;
        out.push(await checkCell(exec, locks, src, t, deadline));
      }
      return out;
    }),
  );
  const cells = rows.flat();
  return { cells, wrong: cells.filter((c) => c.expected !== c.seen) };
}

/** Human table: rows are sources, columns targets; `ok`/`--` as expected, `FAIL`/`LEAK` when not. */
export function formatMatrix(result: MatrixResult): string {
  const targets = matrixTargets();
  const srcs = [...new Set(result.cells.map((c) => c.src))];
  const width = Math.max(6, ...targets.map((t) => t.label.length)) + 1;
  const lines: string[] = [];
  lines.push(`${'from \\ to'.padEnd(10)}${targets.map((t) => t.label.padStart(width)).join('')}`);
  for (const s of srcs) {
    let row = s.padEnd(10);
    for (const t of targets) {
      const c = result.cells.find((x) => x.src === s && x.target === t.label);
      let mark = '·';
      if (c) mark = c.expected === c.seen ? (c.seen ? 'ok' : '--') : c.expected ? 'FAIL' : 'LEAK';
      row += mark.padStart(width);
    }
    lines.push(row);
  }
  lines.push('');
  lines.push(
    "ok = reachable as expected, -- = isolated as expected, FAIL = should reach but didn't, LEAK = should not reach but did",
  );
  for (const c of result.wrong)
    lines.push(
      `  wrong: ${c.src} -> ${c.target}: expected ${c.expected ? 'reachable' : 'isolated'}${c.note ? ` (${c.note})` : ''}`,
    );
  lines.push(
    result.wrong.length === 0
      ? `all ${result.cells.length} cells as expected`
      : `${result.wrong.length} of ${result.cells.length} cells wrong`,
  );
  return lines.join('\n');
}
