// `vnet server`: the API + store + change feed process (OpenVNet's webapi and vnmgr in one).
import { Command } from '@commander-js/extra-typings';
import { SqliteStore } from '../store/sqlite.js';
import { createLogger } from '../util/log.js';
import { buildApp } from './app.js';
import { ConfigError, resolveConfig } from './config.js';

export function serverCommand() {
  return new Command('server')
    .description('run the vnet API server (OpenVNet 1.0 WebAPI, SQLite store, change feed)')
    .option('--listen <host:port>', 'address to listen on (env VNET_LISTEN; default 127.0.0.1:9090)')
    .option('--db <path>', 'SQLite database file (env VNET_DB; default /var/lib/vnet/vnet.db)')
    .option('--config <file>', 'YAML config file: listen, db, retain_changes, heartbeat_ms (env VNET_CONFIG)')
    .option('--retain-changes <n>', 'changes kept for resuming watchers (default 100000)')
    .action(async (opts) => {
      const log = createLogger('vnet-server');
      let cfg: ReturnType<typeof resolveConfig>;
      try {
        cfg = resolveConfig({ flags: opts, env: process.env });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        process.stderr.write(`vnet server: ${e.message}\n`);
        process.exit(2);
      }
      let store: SqliteStore;
      try {
        store = new SqliteStore({ path: cfg.db, retainChanges: cfg.retainChanges });
      } catch (e) {
        process.stderr.write(`vnet server: cannot open database ${cfg.db}: ${(e as Error).message}\n`);
        process.exit(2);
      }
      const { app } = await buildApp({ store, logger: log, feed: { heartbeatMs: cfg.heartbeatMs } });
      try {
        await app.listen({ host: cfg.host, port: cfg.port });
      } catch (e) {
        process.stderr.write(`vnet server: cannot listen on ${cfg.host}:${cfg.port}: ${(e as Error).message}\n`);
        await store.close();
        process.exit(2);
      }
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
      log.info({ host: cfg.host, port, db: cfg.db }, 'vnet server listening');
      // One parseable line on stdout so scripts/tests using --listen HOST:0 learn the port.
      process.stdout.write(`vnet server listening on http://${cfg.host}:${port}\n`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        await app.close();
        await store.close();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
    });
}
