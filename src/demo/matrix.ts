// The reachability matrix of the seed layout: ping every target from every VM, check that the VM
// that answered is the intended one (overlapping addresses), and print expected vs seen.
import { expectedReachable, type MatrixTarget, matrixTargets, SEED_VMS, type SeedVm, seedNetwork } from './seed.js';

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

function sameSubnet(a: SeedVm, ip: string): boolean {
  const n = seedNetwork(a.network);
  // All seed networks are /24.
  return ip.split('.').slice(0, 3).join('.') === n.ipv4Network.split('.').slice(0, 3).join('.');
}

async function ping(exec: VmExec, vm: string, ip: string): Promise<boolean> {
  const r = await exec(vm, ['ping', '-n', '-q', '-c', '1', '-W', '1', ip]);
  return r.code === 0;
}

/** The MAC the source's neighbour table holds for `ip` (who answered ARP), or null. */
async function neighbourMac(exec: VmExec, vm: string, ip: string): Promise<string | null> {
  const r = await exec(vm, ['ip', '-j', 'neigh', 'show', ip, 'dev', 'eth0']);
  if (r.code !== 0) return null;
  try {
    const rows = JSON.parse(r.stdout || '[]') as Array<{ lladdr?: string }>;
    return rows.find((x) => x.lladdr)?.lladdr?.toLowerCase() ?? null;
  } catch {
    return null;
  }
}

async function checkCell(exec: VmExec, src: SeedVm, target: MatrixTarget, deadline: number): Promise<Cell> {
  const expected = expectedReachable(src, target);
  const cell: Cell = { src: src.name, target: target.label, expected, seen: false };
  // A cell that should work gets until the deadline (convergence); one that should not gets one
  // honest try: a ping that is answered at all is a failure of isolation.
  do {
    if (await ping(exec, src.name, target.ip)) {
      cell.seen = true;
      if (target.vm && sameSubnet(src, target.ip)) {
        const mac = await neighbourMac(exec, src.name, target.ip);
        if (mac && mac !== target.vm.mac) {
          cell.seen = false;
          const other = SEED_VMS.find((v) => v.mac === mac);
          cell.note = `answered by ${other?.name ?? mac}, not ${target.vm.name}`;
        }
      }
      if (cell.seen || !expected) break;
    }
  } while (expected && Date.now() < deadline);
  return cell;
}

/** Runs the whole matrix (sources in parallel, targets of one source in turn). */
export async function runMatrix(exec: VmExec, opts: MatrixOptions = {}): Promise<MatrixResult> {
  const deadline = Date.now() + (opts.deadlineMs ?? 10_000);
  const vms = opts.vms ?? SEED_VMS;
  const targets = matrixTargets();
  const rows = await Promise.all(
    vms.map(async (src) => {
      const out: Cell[] = [];
      for (const t of targets) {
        if (t.vm === src) continue;
        out.push(await checkCell(exec, src, t, deadline));
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
