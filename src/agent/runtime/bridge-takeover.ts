// Taking over the bridge through OVSDB: it must exist (created only when asked), then it is pointed at this agent
// as its only controller, fail_mode=secure, with the two flow-based tunnel ports.
import type { Logger } from '../../util/log.js';
import type { BridgeControl } from './deps.js';
import type { AgentConfig } from './options.js';

/** Names of the two flow-based tunnel ports every bridge gets (one per encapsulation). */
export const TUNNEL_PORTS = { gre: 'vnet-gre', vxlan: 'vnet-vxlan' } as const;

/** OVS's inactivity probe for the controller: short, so a dead agent is noticed within seconds. */
export const INACTIVITY_PROBE_MS = 5000;
/** OVS reconnect backoff cap: OVS's default of 8 s would defeat fast reconvergence. */
export const CONTROLLER_MAX_BACKOFF_MS = 1000;

/**
 * Resolves once the bridge exists: created with --create-bridge, else awaited (`waiting` is told first). Only a
 * loaded cache can say a bridge is missing; creating it on a guess would overwrite a user's datapath_type.
 */
export async function ensureBridge(
  ovs: BridgeControl,
  cfg: Pick<AgentConfig, 'bridge' | 'createBridge' | 'datapathType'>,
  log: Logger,
  waiting: () => void,
): Promise<void> {
  const name = cfg.bridge;
  await ovs.ready();
  if (ovs.bridgeExists(name)) return;
  if (cfg.createBridge) {
    log.info({ bridge: name, datapathType: cfg.datapathType }, 'creating bridge (--create-bridge)');
    await ovs.createBridge({ name, datapathType: cfg.datapathType });
    return;
  }
  log.warn(
    { bridge: name },
    `waiting for bridge ${name} to exist (create it, e.g. ovs-vsctl add-br ${name}, or run with --create-bridge)`,
  );
  waiting();
  await ovs.waitForBridge(name);
  log.info({ bridge: name }, 'bridge appeared');
}

/**
 * Makes `controller` the bridge's controller (fail_mode=secure, OpenFlow 1.3), adds the tunnel ports; its dpid.
 * `controller` null: the bridge gets none (a listener-era one is removed) — the agent dials its management socket.
 * `ssl`: ovs-vswitchd's key, certificate and CA files for an `ssl:` controller, set first (--switch-key …).
 */
export async function takeOverBridge(
  ovs: BridgeControl,
  name: string,
  controller: string | null,
  ssl: AgentConfig['switchSsl'] = null,
): Promise<bigint> {
  await ovs.takeOverBridge({
    ...(ssl ? { ssl } : {}),
    name,
    controllers: controller === null ? [] : [controller],
    failMode: 'secure',
    protocols: ['OpenFlow13'],
    disableInBand: true,
    controllerMaxBackoff: CONTROLLER_MAX_BACKOFF_MS,
    inactivityProbe: INACTIVITY_PROBE_MS,
  });
  for (const type of ['gre', 'vxlan'] as const) {
    await ovs.ensureTunnelPort({ bridge: name, name: TUNNEL_PORTS[type], type });
  }
  return ovs.bridgeDatapathId(name);
}
