// vnctl's driver: parse, call the API, print; every failure becomes one stderr line and an exit status.
import { VERSION } from '../../util/version.js';
import { readFileSync } from 'node:fs';
import { batchLines } from './batch.js';
import { ApiError, UsageError, VnctlError } from './errors.js';
import { combine, formatResult } from './format.js';
import { helpText } from './help.js';
import { type OpenVNetConf, readOpenVNetConf } from './openvnet-conf.js';
import { callApi, oneLine, resolveApiBases, resolveCa, resolveToken } from './http.js';
import { type GlobalOptions, type OutputFormat, parseArgs } from './parse.js';

/** Where vnctl writes; the entry point passes process streams, tests collect strings. */
export interface VnctlIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stdout is a terminal (absent: treated as one — a table, the interactive default). */
  readonly isTTY?: boolean;
}

/**
 * How results are printed: `--output` wins; else OpenVNet's vnctl.conf `output_format`; else a table on a
 * terminal and, when stdout is a pipe or a file, YAML — what OpenVNet's vnctl printed, which scripts and its
 * test harness parse.
 */
export function outputFormat(given: OutputFormat | undefined, conf: OpenVNetConf | null, io: VnctlIo): OutputFormat {
  return given ?? conf?.output ?? (io.isTTY === false ? 'yaml' : 'table');
}

export const DEFAULT_TIMEOUT_SECONDS = 30;
/** Exit status for a bug in vnctl itself (EX_SOFTWARE), distinct from the documented 1/2/3. */
export const EXIT_INTERNAL = 70;

/** Runs one vnctl command line; resolves to the process exit status. */
export async function runVnctl(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: VnctlIo,
): Promise<number> {
  let format: OutputFormat = 'table';
  try {
    const inv = parseArgs(argv);
    const conf = readOpenVNetConf(env);
    format = outputFormat(inv.globals.output, conf, io);
    if (inv.kind === 'help') {
      // `vnctl` alone is a usage mistake: help goes to stderr with a failure status.
      (inv.requested ? io.stdout : io.stderr)(helpText(inv.topic));
      return inv.requested ? 0 : 2;
    }
    if (inv.kind === 'batch') return await runBatch(inv.file, inv.globals, env, io);
    if (inv.kind === 'version') {
      io.stdout(`vnctl ${VERSION}\n`);
      return 0;
    }
    const bases = resolveApiBases(inv.globals.api, env, conf);
    const base = bases[0]!;
    const token = resolveToken(inv.globals.token, env);
    const ca = resolveCa(inv.globals.caFile, env);
    const timeoutSeconds = inv.globals.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const replies: unknown[] = [];
    try {
      for (const req of inv.requests) replies.push(await callApi(req, { base, bases, timeoutSeconds, token, ca }));
    } catch (e) {
      // `del A B C` failing at B: A is gone, so say so before the error.
      if (replies.length > 0) io.stdout(formatResult(combine(replies, inv.shape), format, inv.shape, inv.columns));
      throw e;
    }
    io.stdout(formatResult(combine(replies, inv.shape), format, inv.shape, inv.columns));
    return 0;
  } catch (e) {
    // OpenVNet's vnctl printed the error body as YAML and scripts grep it for `error`: keep that in yaml/json mode.
    if (e instanceof ApiError && e.body !== undefined && format !== 'table')
      io.stdout(formatResult(e.body, format, 'body', []));
    if (e instanceof VnctlError) {
      io.stderr(`vnctl: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    io.stderr(`vnctl: internal error: ${oneLine(e instanceof Error ? `${e.name}: ${e.message}` : String(e))}\n`);
    return EXIT_INTERNAL;
  }
}

/** The batch's global options, put in front of every line (a line's own options come later and win). */
function globalsArgv(g: GlobalOptions): string[] {
  const out = g.output === undefined ? [] : ['--output', g.output];
  if (g.api !== undefined) out.push('--api', g.api);
  if (g.timeoutSeconds !== undefined) out.push('--timeout', String(g.timeoutSeconds));
  if (g.token !== undefined) out.push('--token', g.token);
  if (g.caFile !== undefined) out.push('--ca-file', g.caFile);
  return out;
}

/**
 * `vnctl batch [FILE]`: runs each command line of FILE (stdin without one) in order and stops at
 * the first that fails, with that line's exit status; its error names FILE:LINE.
 */
async function runBatch(
  file: string | undefined,
  globals: GlobalOptions,
  env: Readonly<Record<string, string | undefined>>,
  io: VnctlIo,
): Promise<number> {
  const name = file ?? '<stdin>';
  let text: string;
  try {
    text = readFileSync(file ?? 0, 'utf8');
  } catch (e) {
    throw new UsageError(`batch: cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let lines: ReturnType<typeof batchLines>;
  try {
    lines = batchLines(text);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${name}:${e.message.replace(/^line /, '')}`);
    throw e;
  }
  const prefix = globalsArgv(globals);
  for (const l of lines) {
    const where = `${name}:${l.line}`;
    if (l.words[0] === 'batch') throw new UsageError(`${where}: batch cannot run batch`);
    const status = await runVnctl([...prefix, ...l.words], env, {
      stdout: io.stdout,
      stderr: (s) => io.stderr(s.replace(/^vnctl: /, `vnctl: ${where}: `)),
    });
    if (status !== 0) return status;
  }
  return 0;
}
