// Runs `vnet agent` as a process: config, logger, real dependencies, signals, exit status.
import { createLogger } from '../../util/log.js';
import { Agent } from './agent.js';
import { errText } from './errors.js';
import { AgentConfigError } from './errors.js';
import type { AgentMetrics } from './metrics.js';
import { parseAgentOptions, type RawAgentOptions } from './options.js';
import { StartupSpan } from './startup-span.js';
import { buildAgentDeps } from './wire.js';

export async function runAgent(raw: RawAgentOptions): Promise<void> {
  const startup = new StartupSpan();
  startup.mark('loaded');
  let config: ReturnType<typeof parseAgentOptions>;
  try {
    config = parseAgentOptions(raw);
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`vnet agent: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger('vnet-agent').child({ nodeId: config.nodeId, bridge: config.bridge });
  let agent: Agent;
  let metrics: AgentMetrics | null = null;
  try {
    // prom-client is loaded only when metrics are asked for (its import alone took 180–270 ms at load 16 here).
    if (config.metricsListen) metrics = new (await import('./metrics.js')).AgentMetrics();
    agent = new Agent({ ...(await buildAgentDeps(config, log, metrics ?? undefined)), startup });
    if (metrics && config.metricsListen) {
      const { host } = config.metricsListen;
      // Scrapes and SIGUSR2 read the same account of the agent: status().
      const { port } = await metrics.serve(config.metricsListen, () => agent.status());
      log.info({ metrics: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics` }, 'serving metrics');
    }
  } catch (err) {
    log.fatal({ err: errText(err) }, 'agent could not start');
    process.stderr.write(`vnet agent: ${errText(err)}\n`);
    process.exit(1);
  }
  agent.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(0), 5000);
    force.unref();
    Promise.all([agent.stop(), metrics?.close()]).then(
      () => log.flush(() => process.exit(0)),
      (err: unknown) => {
        log.error({ err: errText(err) }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  // `kill -USR2 <pid>` logs what the agent is doing (phase, dpid, bindings, counters).
  process.on('SIGUSR2', () => log.info({ status: agent.status() }, 'status'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
