// Builds the agent's real dependencies from its config: OVSDB, OpenFlow listener, feed, API, DHCP.
import { ApiClient } from '../../client/index.js';
import type { Logger } from '../../util/log.js';
import type { AgentDeps } from './agent.js';
import { DhcpService } from './dhcp-service.js';
import { ServerFeed } from './feed-source.js';
import { OpenFlowListener } from './openflow-link.js';
import type { AgentConfig } from './options.js';
import { OvsdbBridgeControl } from './ovsdb-bridge.js';

export async function buildAgentDeps(config: AgentConfig, log: Logger): Promise<AgentDeps> {
  const switches = await OpenFlowListener.listen(config.listen, log.child({ component: 'openflow' }));
  const api = new ApiClient({ baseUrl: config.server, timeoutMs: 10_000 });
  return {
    config,
    log,
    bridge: new OvsdbBridgeControl(config.ovsdb, log.child({ component: 'ovsdb' })),
    switches,
    feed: new ServerFeed(config.server),
    api: {
      reportDatapathStatus: (uuid, body) => api.reportDatapathStatus(uuid, body as never),
      reportInterfaceBinding: (uuid, body) => api.reportInterfaceBinding(uuid, body as never),
      createDatapath: (body) => api.createDatapath(body),
    },
    dhcp: (mirror) => new DhcpService(mirror),
  };
}
