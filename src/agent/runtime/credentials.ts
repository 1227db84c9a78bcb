// The agent's API token: VNET_TOKEN, else the token file, else an enrollment — a one-time token an admin issued
// (role enrollment, for this node) traded at the server for an agent token, which is then kept in the token
// file (0600) so that restarts need no new enrollment. No token at all is fine against a loopback-only server.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ApiClient, ApiUnreachableError } from '../../client/index.js';
import type { Logger } from '../../util/log.js';
import type { AgentConfig } from './options.js';

const RETRY_MS = 1000;

export async function agentToken(
  config: AgentConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (env.VNET_TOKEN?.trim()) return env.VNET_TOKEN.trim();
  const file = config.tokenFile;
  if (file && existsSync(file)) {
    const kept = readFileSync(file, 'utf8').split('\n')[0]!.trim();
    if (kept) return kept;
  }
  if (!config.enrollToken || !file) return undefined;
  const api = new ApiClient({
    baseUrls: config.servers,
    timeoutMs: 10_000,
    token: config.enrollToken,
    ca: config.ca ?? undefined,
  });
  // The server may not be up yet (agents may start first): retry until it answers; a refusal is final.
  for (;;) {
    try {
      const reply = (await api.send({
        method: 'POST',
        path: '/tokens/enroll',
        body: { display_name: `agent ${config.nodeId}` },
      })) as { uuid: string; token: string };
      writeFileSync(file, `${reply.token}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      log.info({ token: reply.uuid, file }, 'enrolled: agent token kept in the token file');
      return reply.token;
    } catch (err) {
      // A refusal, or a certificate we do not trust, is final; an absent server is waited for.
      if (!(err instanceof ApiUnreachableError) || /TLS:/.test(err.message))
        throw new Error(`enrollment refused: ${(err as Error).message}`);
      log.warn({ err: err.message, next: api.failover() }, 'enrollment: server unreachable, retrying');
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
