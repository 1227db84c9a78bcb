// `vnet server`: the API + store + change feed process (OpenVNet's webapi and vnmgr in one).
import { Command } from '@commander-js/extra-typings';
import { isPostgresUrl, PostgresStore, redactUrl } from '../store/postgres.js';
import { SqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/store.js';
import { createLogger } from '../util/log.js';
import { buildApp } from './app.js';
import { dirname, join } from 'node:path';
import { type AuthMode, isLoopbackListen } from './auth/guard.js';
import { startAuditPruning } from './auth/audit.js';
import { bootstrapAdminToken } from './auth/token-rows.js';
import { ConfigError, parseListen, type ServerConfig, resolveConfig } from './config.js';
import { buildNeutronApp } from './neutron/app.js';
import { parseQuotas, type Quotas } from './neutron/quotas.js';
import { KeystoneConfigError, type KeystoneUser, loadKeystoneUsers } from './neutron/keystone.js';
import { type TlsIdentity, tlsIdentity } from './tls.js';

/** Pending connections the listening socket holds (see the listen call). */
const LISTEN_BACKLOG = 4096;

const collect = (v: string, acc: string[]) => [...acc, v];

/** Loopback only: local trust (tokens checked when given); any other address: tokens, unless --insecure. */
export function authMode(cfg: ServerConfig): AuthMode {
  if (cfg.insecure) return 'insecure';
  if (cfg.requireAuth || !isLoopbackListen(cfg.host)) return 'tokens';
  return 'local';
}

function defaultAdminTokenFile(db: string): string {
  if (db === ':memory:') throw new ConfigError('--admin-token-file is needed with an in-memory database');
  if (isPostgresUrl(db)) throw new ConfigError('--admin-token-file is needed with a PostgreSQL database');
  return join(dirname(db), 'admin.token');
}

/** The directory of a SQLite file (a generated TLS pair goes there); the working directory otherwise. */
function dataDir(db: string): string {
  return db === ':memory:' || isPostgresUrl(db) ? process.cwd() : dirname(db);
}

export function serverCommand() {
  return new Command('server')
    .description('run the vnet API server (OpenVNet 1.0 WebAPI, SQLite or PostgreSQL store, change feed)')
    .option('--listen <host:port>', 'address to listen on (env VNET_LISTEN; default 127.0.0.1:9090)')
    .option(
      '--db <path|url>',
      'SQLite database file, or postgres://user@host:port/db shared by several servers (env VNET_DB; default /var/lib/vnet/vnet.db)',
    )
    .option(
      '--config <file>',
      'YAML config file: listen, db, retain_changes, heartbeat_ms, max_watchers, max_snapshots_in_flight, presence_grace_ms (env VNET_CONFIG)',
    )
    .option('--retain-changes <n>', 'changes kept for resuming watchers (default 100000)')
    .option('--audit-retain-days <n>', 'audit entries older than this are pruned (default 90; 0: never by age)')
    .option(
      '--audit-retain-entries <n>',
      'at most this many audit entries are kept, the newest (default 1000000; 0: no bound)',
    )
    .option('--require-auth', 'require API tokens even when listening on loopback only')
    .option('--insecure', 'serve without tokens on a non-loopback address (anyone who reaches it is admin)')
    .option(
      '--admin-token-file <file>',
      'where the first admin token is written when tokens are required (env VNET_ADMIN_TOKEN_FILE; default: admin.token next to --db)',
    )
    .option('--allowed-host <name>', 'a Host header name to serve besides loopback names (repeatable)', collect, [])
    .option(
      '--tls',
      'serve HTTPS; without --tls-cert/--tls-key a self-signed pair is made next to --db (tls.crt, tls.key)',
    )
    .option('--tls-cert <file>', 'PEM certificate (chain) to serve HTTPS with')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--neutron-listen <host:port>',
      "also serve OpenStack's Neutron v2.0 API here (e.g. 127.0.0.1:9696; docs/neutron.md); same store, tokens and TLS",
    )
    .option(
      '--neutron-quota <kind=n>',
      "a per-project quota of the Neutron API over Neutron's defaults, e.g. ports=1000 (-1: unlimited; repeatable)",
      collect,
      [],
    )
    .option(
      '--keystone-users <file>',
      'YAML list of {name, password, project, roles: [admin|member]}: logins of the minimal Keystone v3 at NEUTRON/identity/v3 (docs/neutron.md)',
    )
    .action(async (opts) => {
      const log = createLogger('vnet-server');
      let cfg: ReturnType<typeof resolveConfig>;
      let mode: AuthMode;
      let tokenFile: string | null = null;
      let neutronListen: { host: string; port: number } | null = null;
      let quotas: Quotas;
      let keystoneUsers: KeystoneUser[] = [];
      try {
        cfg = resolveConfig({ flags: opts, env: process.env });
        if (opts.neutronListen) neutronListen = parseListen(opts.neutronListen);
        quotas = parseQuotas(opts.neutronQuota);
        if (cfg.keystoneUsers) keystoneUsers = loadKeystoneUsers(cfg.keystoneUsers);
        mode = authMode(cfg);
        if (mode === 'tokens') tokenFile = cfg.adminTokenFile ?? defaultAdminTokenFile(cfg.db);
      } catch (e) {
        if (!(e instanceof ConfigError) && !(e instanceof KeystoneConfigError)) throw e;
        process.stderr.write(`vnet server: ${e.message}\n`);
        process.exit(2);
      }
      let store: Store;
      const dbName = isPostgresUrl(cfg.db) ? redactUrl(cfg.db) : cfg.db;
      try {
        store = isPostgresUrl(cfg.db)
          ? await PostgresStore.open({ url: cfg.db, retainChanges: cfg.retainChanges, log })
          : new SqliteStore({ path: cfg.db, retainChanges: cfg.retainChanges });
      } catch (e) {
        process.stderr.write(`vnet server: cannot open database ${dbName}: ${(e as Error).message}\n`);
        process.exit(2);
      }
      let tls: TlsIdentity | null = null;
      if (cfg.tls) {
        try {
          tls = await tlsIdentity({
            certFile: cfg.tlsCert,
            keyFile: cfg.tlsKey,
            dir: dataDir(cfg.db),
            listenHost: cfg.host,
            names: cfg.allowedHosts,
          });
        } catch (e) {
          process.stderr.write(`vnet server: ${(e as Error).message}\n`);
          await store.close();
          process.exit(2);
        }
        if (tls.generated) log.info({ cert: tls.certFile }, 'generated a self-signed TLS certificate');
        // Clients verify it with --ca-file; the fingerprint lets an operator compare it out of band.
        process.stdout.write(`vnet server: TLS certificate ${tls.certFile} sha256 ${tls.fingerprint}\n`);
      }
      const { app, service } = await buildApp({
        ...(tls ? { tls } : {}),
        store,
        logger: log,
        feed: {
          heartbeatMs: cfg.heartbeatMs,
          maxWatchers: cfg.maxWatchers,
          maxSnapshotsInFlight: cfg.maxSnapshotsInFlight,
        },
        presenceGraceMs: cfg.presenceGraceMs,
        auth: { mode, allowedHosts: cfg.allowedHosts },
      });
      if (mode === 'insecure')
        log.warn({ host: cfg.host }, 'serving WITHOUT tokens (--insecure): anyone who reaches this address is admin');
      if (tokenFile) {
        const written = await bootstrapAdminToken(service, tokenFile).catch(async (e: Error) => {
          process.stderr.write(`vnet server: cannot write the admin token to ${tokenFile}: ${e.message}\n`);
          await store.close();
          process.exit(2);
        });
        if (written) {
          log.info({ file: written }, 'no admin token existed: one was created');
          process.stdout.write(`vnet server: admin token written to ${written}\n`);
        }
      }
      try {
        // Connections the kernel queues before the server accepts them (Node's default 511; the kernel caps it at
        // net.core.somaxconn): a thousand agents reconnecting together after a restart overflowed 511.
        await app.listen({ host: cfg.host, port: cfg.port, backlog: LISTEN_BACKLOG });
      } catch (e) {
        process.stderr.write(`vnet server: cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}\n`);
        await store.close();
        process.exit(2);
      }
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
      log.info({ host: cfg.host, port, db: dbName, auth: mode }, 'vnet server listening');
      // One parseable line on stdout so scripts/tests using --listen HOST:0 learn the port.
      process.stdout.write(`vnet server listening on ${tls ? 'https' : 'http'}://${cfg.host}:${port}\n`);
      const neutron = neutronListen
        ? await buildNeutronApp({
            service,
            logger: log,
            ...(tls ? { tls } : {}),
            quotas,
            // Its own address decides its trust, as the OpenVNet listener's does.
            mode: authMode({ ...cfg, host: neutronListen.host }),
            keystoneUsers,
          })
        : null;
      if (neutron && neutronListen) {
        try {
          await neutron.listen(neutronListen);
        } catch (e) {
          process.stderr.write(
            `vnet server: cannot listen on ${neutronListen.host}:${neutronListen.port}: ${(e as Error).message}\n`,
          );
          await store.close();
          process.exit(2);
        }
        const na = neutron.server.address();
        const nport = typeof na === 'object' && na ? na.port : neutronListen.port;
        log.info({ host: neutronListen.host, port: nport }, 'neutron API listening');
        process.stdout.write(`vnet server neutron API on ${tls ? 'https' : 'http'}://${neutronListen.host}:${nport}\n`);
      }
      const stopPruning = startAuditPruning(
        store,
        {
          maxAgeDays: cfg.auditRetainDays === 0 ? null : cfg.auditRetainDays,
          maxEntries: cfg.auditRetainEntries === 0 ? null : cfg.auditRetainEntries,
        },
        log,
      );
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        await app.close();
        await neutron?.close();
        await stopPruning();
        await store.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });
}
