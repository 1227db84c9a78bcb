// A `vnet server` in its own process on a temp SQLite file (production settings), for benchmarks that
// need a real server over HTTP without the namespace lab.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../src/client/api-client.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');

export interface ServerProcess {
  proc: ChildProcess;
  /** e.g. http://127.0.0.1:40123 */
  base: string;
  /** The shared API client for `base` (with the admin token and the server's certificate when it has them). */
  api: ApiClient;
  token: string | undefined;
  ca: string | undefined;
  stop(): Promise<void>;
}

/**
 * `extraArgs`: more `vnet server` options (e.g. --require-auth, --tls); with --require-auth the client carries
 * the admin token the server wrote, with --tls it trusts the server's certificate.
 */
export async function startServerProcess(tag = 'bench', extraArgs: readonly string[] = []): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `vnet-${tag}-${process.pid}-`));
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/main.ts'),
      'server',
      '--listen',
      '127.0.0.1:0',
      '--db',
      join(dir, 'vnet.db'),
      ...extraArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, VNET_LOG_LEVEL: 'warn' } },
  );
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let out = '';
  try {
    const base = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (https?:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${out.slice(-2000)}`)));
    });
    const tokenFile = join(dir, 'admin.token');
    const certFile = join(dir, 'tls.crt');
    const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined;
    const ca = existsSync(certFile) ? readFileSync(certFile, 'utf8') : undefined;
    return { proc, base, api: new ApiClient({ baseUrl: base, token, ca }), token, ca, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
