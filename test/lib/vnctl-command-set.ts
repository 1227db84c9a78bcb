// OpenVNet's vnctl command set (test/fixtures/openvnet-vnctl/commands.txt): read, run through any vnctl (vnet's
// own in-process, or OpenVNet's Ruby one as a process), and judged the way OpenVNet's scripts judge an answer —
// the body printed, no top-level `error:` key (the Ruby vnctl exits 0 whatever the WebAPI answered).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const COMMAND_SET_FILE = join(import.meta.dirname, '..', 'fixtures', 'openvnet-vnctl', 'commands.txt');

/**
 * Where vnet answers differently from OpenVNet, on purpose (docs/vnctl.md says why): each such line must be
 * refused with this reason — a known difference that starts passing fails too, so this list stays true.
 */
export const KNOWN_DIFFERENCES: Record<string, RegExp> = {
  // An IP network over a segment (OpenVNet's segment_uuid on a network) is not built: a segment carries
  // interfaces with segment_uuid and no network.
  'vnctl networks add --uuid nw-setseg --ipv4-network 10.104.0.0 --ipv4-prefix 24 --segment-uuid seg-set1':
    /NotSupported.*segment_uuid/,
};

export interface Step {
  /** 1-based line in the file, for messages. */
  readonly line: number;
  readonly text: string;
  /** The words after `vnctl`, with `$NAME` placeholders still in. */
  readonly argv: readonly string[];
  /** `=> $NAME`: the answer's uuid is kept under this name. */
  readonly capture?: string;
}

export function readCommandSet(file = COMMAND_SET_FILE): Step[] {
  const steps: Step[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) return;
      const [command, capture] = text.split(/\s+=>\s+\$/);
      const words = command!.split(/\s+/);
      if (words[0] !== 'vnctl') throw new Error(`${file}:${i + 1}: a line starts with "vnctl"`);
      steps.push({ line: i + 1, text, argv: words.slice(1), capture });
    });
  return steps;
}

export interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StepResult {
  readonly step: Step;
  readonly ok: boolean;
  /** Why it failed: the error the server answered, or the vnctl's own failure. */
  readonly why?: string;
}

/** An answer OpenVNet's harness would take: a body printed, exit 0, no `error:` at the top of it. */
export function judge(o: Outcome): { ok: boolean; why?: string } {
  if (o.status !== 0) return { ok: false, why: `exit ${o.status}: ${(o.stderr || o.stdout).trim().slice(0, 300)}` };
  // Thor (the Ruby vnctl's parser) prints a usage ERROR to stderr and exits 0 without calling the WebAPI.
  const usage = /^ERROR: .*$/m.exec(o.stderr);
  if (usage) return { ok: false, why: usage[0] };
  if (o.stdout.trim() === '') return { ok: false, why: 'nothing printed' };
  const error = /^error: (.*)$/m.exec(o.stdout);
  if (error) {
    const message = /^message: (.*)$/m.exec(o.stdout)?.[1] ?? '';
    return { ok: false, why: `${error[1]} ${message}`.trim() };
  }
  return { ok: true };
}

/** Runs every step in order through `run`, substituting captured uuids; never stops at a failure. */
export async function runCommandSet(
  steps: readonly Step[],
  run: (argv: readonly string[]) => Promise<Outcome>,
): Promise<StepResult[]> {
  const vars = new Map<string, string>();
  const results: StepResult[] = [];
  for (const step of steps) {
    const argv = step.argv.map((w) => (w.startsWith('$') ? (vars.get(w.slice(1)) ?? w) : w));
    const outcome = await run(argv);
    const verdict = judge(outcome);
    if (verdict.ok && step.capture) {
      const uuid = /^uuid: (\S+)$/m.exec(outcome.stdout)?.[1];
      if (uuid) vars.set(step.capture, uuid);
    }
    results.push({ step, ...verdict });
  }
  return results;
}
