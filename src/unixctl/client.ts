// A client of Open vSwitch's unixctl control socket: what `ovs-appctl` speaks to ovs-vswitchd (and the other
// OVS daemons). One connection per call, as ovs-appctl does: JSON-RPC 1.0 over the unix socket, the request
// `{"id":0,"method":…,"params":[strings]}`, one reply `{"id":0,"result":"<text>","error":null}` or with
// `error` set to OVS's message (lib/unixctl.c). The byte stream is split into JSON texts by the OVSDB
// client's JsonSplitter (same RFC 7047-style framing: concatenated JSON, no delimiters).
import { readFile, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import { OvsdbFramingError } from '../ovsdb/errors.js';
import { JsonSplitter } from '../ovsdb/framing.js';
import { UnixctlError } from './errors.js';

export const DEFAULT_UNIXCTL_TIMEOUT_MS = 10_000;
/** Replies larger than this are refused (a full ofproto/trace or a big dump is well under a MiB). */
export const DEFAULT_UNIXCTL_MAX_REPLY_BYTES = 16 * 1024 * 1024;

export interface UnixctlCallOptions {
  /** How long to wait for the reply, from the call (connecting included). Default 10 s. */
  timeoutMs?: number;
  /** Largest reply accepted, in bytes. Default 16 MiB. */
  maxReplyBytes?: number;
}

/** "ovs-vswitchd" for `…/ovs-vswitchd.ctl` or `…/ovs-vswitchd.<pid>.ctl`; otherwise the socket's path. */
function daemonOf(socketPath: string): string {
  const m = /^(.+?)(?:\.\d+)?\.ctl$/.exec(basename(socketPath));
  return m ? m[1]! : `the daemon at ${socketPath}`;
}

/**
 * Runs one unixctl command (`ovs-appctl -t <socketPath> <method> <params…>`) and returns its text as the
 * daemon answered it (no newline added or removed). Every failure is a UnixctlError: `rpc` when the daemon
 * answered with an error (its message in `ovsMessage`), else `connect`, `timeout`, `closed`, `framing` or
 * `protocol`; it never hangs past `timeoutMs`.
 */
export async function unixctlCall(
  socketPath: string,
  method: string,
  params: string[],
  opts: UnixctlCallOptions = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_UNIXCTL_TIMEOUT_MS;
  const maxReplyBytes = opts.maxReplyBytes ?? DEFAULT_UNIXCTL_MAX_REPLY_BYTES;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`timeoutMs must be > 0: ${timeoutMs}`);
  if (typeof method !== 'string' || method === '') throw new TypeError('unixctl method must be a non-empty string');
  if (!Array.isArray(params) || params.some((p) => typeof p !== 'string'))
    throw new TypeError(`unixctl ${method}: every parameter must be a string`);
  const daemon = daemonOf(socketPath);

  return new Promise<string>((resolve, reject) => {
    const splitter = new JsonSplitter(maxReplyBytes);
    let connected = false;
    let settled = false;
    const socket = createConnection({ path: socketPath });
    const finish = (err: UnixctlError | null, result?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new UnixctlError(
            'timeout',
            `${daemon} did not answer ${method} within ${timeoutMs} ms (${socketPath})`,
            method,
          ),
        ),
      timeoutMs,
    );
    socket.on('connect', () => {
      connected = true;
      socket.write(JSON.stringify({ id: 0, method, params }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      let messages: unknown[];
      try {
        messages = splitter.push(chunk);
      } catch (err) {
        const what =
          err instanceof OvsdbFramingError && err.reason === 'too-large'
            ? `a reply larger than ${maxReplyBytes} bytes`
            : `bytes that are not a JSON reply (${(err as Error).message})`;
        finish(new UnixctlError('framing', `${daemon} sent ${what} to ${method}`, method, undefined, { cause: err }));
        return;
      }
      if (messages.length > 0) {
        const reply = interpret(messages[0], method, daemon);
        if (reply instanceof UnixctlError) finish(reply);
        else finish(null, reply);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected) {
        const hint =
          err.code === 'ENOENT'
            ? 'no such socket (is it running?)'
            : err.code === 'ECONNREFUSED'
              ? 'connection refused (is it running?)'
              : err.code === 'ENOTSOCK'
                ? 'not a socket'
                : err.message;
        finish(
          new UnixctlError('connect', `cannot connect to ${daemon} at ${socketPath}: ${hint}`, method, undefined, {
            cause: err,
          }),
        );
      } else {
        finish(
          new UnixctlError(
            'closed',
            `${daemon} dropped the connection during ${method}: ${err.message}`,
            method,
            undefined,
            {
              cause: err,
            },
          ),
        );
      }
    });
    socket.on('close', () => {
      const partial = splitter.buffered > 0 ? ` (after ${splitter.buffered} bytes of an unfinished reply)` : '';
      finish(
        new UnixctlError('closed', `${daemon} closed the connection before answering ${method}${partial}`, method),
      );
    });
  });
}

/** The reply's text, or the UnixctlError it stands for. */
function interpret(msg: unknown, method: string, daemon: string): string | UnixctlError {
  const bad = (what: string) => new UnixctlError('protocol', `${daemon} answered ${method} with ${what}`, method);
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return bad('a JSON value that is not an object');
  const m = msg as Record<string, unknown>;
  if (m.id !== 0) return bad(`a reply whose id is ${JSON.stringify(m.id)}, not 0`);
  if (m.error !== null && m.error !== undefined) {
    const text = typeof m.error === 'string' ? m.error : JSON.stringify(m.error);
    return new UnixctlError('rpc', `${method}: ${text.trim()}`, method, text);
  }
  if (typeof m.result !== 'string')
    return bad(m.result === undefined || m.result === null ? 'a reply without result' : 'a result that is not text');
  return m.result;
}

async function socketProblem(path: string): Promise<string | null> {
  try {
    return (await stat(path)).isSocket() ? null : 'not a socket';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `${code ?? (err as Error).message}`;
  }
}

/**
 * The control socket of the ovs-vswitchd whose run directory is `rundir` (OVS_RUNDIR, /var/run/openvswitch
 * on Debian): OVS's default `<rundir>/ovs-vswitchd.<pid>.ctl` with the pid from `<rundir>/ovs-vswitchd.pid`,
 * else `<rundir>/ovs-vswitchd.ctl` (a daemon started with `--unixctl=<rundir>/ovs-vswitchd.ctl`, as the lab's
 * are). Each must exist and be a socket; a UnixctlError `not-found` lists what was tried.
 */
export async function findVswitchdControlSocket(rundir: string): Promise<string> {
  const tried: string[] = [];
  const pidfile = join(rundir, 'ovs-vswitchd.pid');
  let pid: string | undefined;
  try {
    const text = (await readFile(pidfile, 'utf8')).trim();
    if (/^[1-9]\d*$/.test(text)) pid = text;
    else tried.push(`${pidfile}: no pid in it`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    tried.push(`${pidfile}: ${code === 'ENOENT' ? 'does not exist' : (code ?? (err as Error).message)}`);
  }
  const candidates = [...(pid ? [join(rundir, `ovs-vswitchd.${pid}.ctl`)] : []), join(rundir, 'ovs-vswitchd.ctl')];
  for (const path of candidates) {
    const problem = await socketProblem(path);
    if (problem === null) return path;
    tried.push(`${path}: ${problem}`);
  }
  throw new UnixctlError('not-found', `no ovs-vswitchd control socket in ${rundir} (tried ${tried.join('; ')})`);
}
