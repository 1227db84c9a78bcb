// Builds the agent's real dependencies from its config: OVSDB, OpenFlow listener, feed, API, DHCP, DNS.
import { ApiClient, VnetApiError } from '../../client/index.js';
import type { Logger } from '../../util/log.js';
import type { AgentDeps } from './agent.js';
import { dirname } from 'node:path';
import {
  conntrackTable,
  conntrackZoneConnections,
  findVswitchdControlSocket,
  ofprotoTrace,
} from '../../unixctl/index.js';
import type { AgentObserver, VswitchControl } from './deps.js';
import { agentToken } from './credentials.js';
import { DhcpService } from './dhcp-service.js';
import { DnsForwarder } from '../../dns/index.js';
import { virtualMtu } from '../pipeline/index.js';
import { DnsService } from './dns-service.js';
import { hostUdpPort } from './dns-upstream.js';
import { ServerFeed } from './feed-source.js';
import { OpenFlowListener, SwitchDialer } from './openflow-link.js';
import type { AgentConfig } from './options.js';
import type { DatapathStatusReport } from './reporter.js';
import { OvsdbBridgeControl } from './ovsdb-bridge.js';
import { MetadataEndpoint } from './metadata-endpoint.js';

/** `observer`: the agent's metrics, when `--metrics-listen` asked for them. */
export async function buildAgentDeps(config: AgentConfig, log: Logger, observer?: AgentObserver): Promise<AgentDeps> {
  const ofLog = log.child({ component: 'openflow' });
  const switches = config.switchSocket
    ? new SwitchDialer(config.switchSocket, ofLog)
    : await OpenFlowListener.listen(config.listen, ofLog, { tls: config.openflowTls });
  const token = await agentToken(config, log);
  const ca = config.ca ?? undefined;
  // One client for the feed and the reports: they fail over together ("reports go where the agent is connected").
  const api = new ApiClient({ baseUrls: config.servers, timeoutMs: 10_000, token, ca });
  // `encap` in the status report is an addition to the contract; a server that does not know it
  // answers 400 naming it, and then the agent reports without it (remote hosts then assume GRE).
  let encapAccepted = true;
  const reportStatus = async (uuid: string, body: DatapathStatusReport): Promise<unknown> => {
    const { encap, ...rest } = body;
    if (!encapAccepted || encap === undefined) return api.reportDatapathStatus(uuid, rest as never);
    try {
      return await api.reportDatapathStatus(uuid, body as never);
    } catch (err) {
      if (!(err instanceof VnetApiError) || err.status !== 400 || !/encap/.test(`${err.field} ${err.apiMessage}`))
        throw err;
      encapAccepted = false;
      log.warn({ err: err.message }, 'the server does not take `encap` in status reports; other hosts will use GRE');
      return api.reportDatapathStatus(uuid, rest as never);
    }
  };
  const bridge = new OvsdbBridgeControl(config.ovsdb, log.child({ component: 'ovsdb' }), config.ovsdbTls ?? undefined);
  const metadata = config.metadata;
  return {
    config,
    log,
    bridge,
    metadata: metadata
      ? (lookup, dnsTcp) =>
          new MetadataEndpoint(
            { bridge: config.bridge, netns: metadata.netns },
            bridge,
            lookup,
            log.child({ component: 'metadata' }),
            dnsTcp,
          )
      : undefined,
    switches,
    feed: new ServerFeed(api, config.nodeId),
    api: {
      reportDatapathStatus: (uuid, body) => reportStatus(uuid, body as DatapathStatusReport),
      reportInterfaceBinding: (uuid, body) => api.reportInterfaceBinding(uuid, body as never),
      reportTranslationStatus: (uuid, body) => api.reportTranslationStatus(uuid, body as never),
      createDatapath: (body) => api.createDatapath(body),
      answerRequest: (id, answer) => api.answerAgentRequest(id, answer),
    },
    dhcp: (model) => new DhcpService(model),
    dns: (model) => new DnsService(model, new DnsForwarder(hostUdpPort(log)), virtualMtu(config)),
    observer,
    vswitch: vswitchControl(config),
  };
}

/** ovs-vswitchd's control socket: --vswitchd-ctl, else looked up (at each call) next to a unix: OVSDB socket. */
function vswitchControl(config: AgentConfig): VswitchControl | undefined {
  const ovsdbDir = config.ovsdb.startsWith('unix:') ? dirname(config.ovsdb.slice('unix:'.length)) : null;
  if (!config.vswitchdCtl && !ovsdbDir) return undefined;
  const socket = async () => config.vswitchdCtl ?? (await findVswitchdControlSocket(ovsdbDir!));
  return {
    trace: async (bridge, flow, ctNext) =>
      ofprotoTrace(await socket(), bridge, flow, { ...(ctNext ? { ctNext } : {}) }),
    zoneConnections: async (zone) => conntrackZoneConnections(await socket(), zone),
    conntrackTable: async () => conntrackTable(await socket()),
  };
}
