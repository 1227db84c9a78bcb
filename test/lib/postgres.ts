// A private PostgreSQL cluster for a test file: initdb + pg_ctl (Debian's postgresql package) in a temp directory,
// on a free port, its unix socket inside that directory, removed at the end (and at exit, whatever happened).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Where Debian puts the newest installed server's initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

const MISSING = 'PostgreSQL is missing: `make test` installs it (Debian package postgresql)';

/**
 * Why PostgreSQL tests cannot run here (to skip with), or null when they can. In CI (`CI=true`) a missing
 * PostgreSQL is a failure, never a skip: `make test` must have installed it.
 */
export function postgresMissing(): string | null {
  if (postgresBinDir()) return null;
  if (process.env.CI === 'true') return null; // startPostgres fails, saying why
  return MISSING;
}

/** Skips the test outside CI when PostgreSQL is missing; returns true when it did. */
export function skipWithoutPostgres(t: TestContext): boolean {
  const why = postgresMissing();
  if (why) t.skip(why);
  return why !== null;
}

export interface PostgresCluster {
  /** `postgres://vnet@127.0.0.1:PORT/postgres` */
  url: string;
  /**
   * Creates an empty database and returns its URL; with `template` (a database of this cluster nobody is connected
   * to), a copy of that one (a migrated schema: several times faster than a fresh database migrated).
   */
  createDatabase(opts?: { template?: string }): Promise<string>;
  /**
   * `url` (one of this cluster's) through the cluster's unix socket instead of 127.0.0.1: for processes in other
   * network namespaces (a lab's), which share the file system but not the loopback.
   */
  viaSocket(url: string): string;
  /** Stops the server (immediate mode) and removes the directory; idempotent. */
  stop(): Promise<void>;
}

const running = new Set<{ bin: string; dir: string; asPostgres: boolean }>();
// A test process that dies without its after() hooks still takes its clusters down.
process.on('exit', () => {
  for (const c of running) {
    spawnSync(...ctlCommand(c.bin, c.asPostgres, ['-D', join(c.dir, 'data'), '-m', 'immediate', 'stop']));
    rmSync(c.dir, { recursive: true, force: true });
  }
});

/** initdb refuses root: as root, the cluster's programs run as the postgres OS user (Debian creates it). */
function ctlCommand(bin: string, asPostgres: boolean, args: string[], tool = 'pg_ctl'): [string, string[]] {
  return asPostgres ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
}

/**
 * Starts a throwaway cluster (about 2 s): trust authentication on 127.0.0.1 only, fsync off (it is thrown away)
 * unless `durable` (benchmarks: PostgreSQL's defaults, fsync at every commit, as in production).
 */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  assert.ok(bin, `${MISSING}${process.env.CI === 'true' ? '; CI must have it' : ''}`);
  const asPostgres = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), `vnet-pg-${process.pid}-`));
  const entry = { bin, dir, asPostgres };
  running.add(entry);
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (asPostgres) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gw = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    assert.equal(pw.status, 0, 'the postgres OS user is missing (the postgresql package creates it)');
    for (const p of [dir, sock]) chownSync(p, Number(pw.stdout), Number(gw.stdout));
  }
  const stop = async () => {
    if (!running.delete(entry)) return;
    const [cmd, args] = ctlCommand(bin, asPostgres, ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
    await run(cmd, args).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [initCmd, initArgs] = ctlCommand(
      bin,
      asPostgres,
      ['-D', join(dir, 'data'), '-U', 'vnet', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      'initdb',
    );
    await run(initCmd, initArgs);
    const port = await freePort();
    const serverOpts = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-c unix_socket_directories='${sock}'`,
      ...(opts.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
      '-c max_connections=200',
    ].join(' ');
    const [startCmd, startArgs] = ctlCommand(bin, asPostgres, [
      '-D',
      join(dir, 'data'),
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '30',
      '-o',
      serverOpts,
      'start',
    ]);
    try {
      await run(startCmd, startArgs);
    } catch (e) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
      throw new Error(`pg_ctl start failed: ${(e as Error).message}\n${log}`);
    }
    const url = `postgres://vnet@127.0.0.1:${port}/postgres`;
    let n = 0;
    return {
      url,
      async createDatabase(create = {}) {
        const name = `vnet_test_${++n}`;
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          const template = create.template === undefined ? '' : ` TEMPLATE ${pg.escapeIdentifier(create.template)}`;
          await c.query(`CREATE DATABASE ${name}${template}`);
        } finally {
          await c.end();
        }
        return `postgres://vnet@127.0.0.1:${port}/${name}`;
      },
      viaSocket: (dbUrl) => `${dbUrl}${dbUrl.includes('?') ? '&' : '?'}host=${encodeURIComponent(sock)}`,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
