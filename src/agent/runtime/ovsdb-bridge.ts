// BridgeControl on the OVSDB client (src/ovsdb Vswitch): the agent's bridge, tunnel ports and port list.
import { type BridgeInfo, type InterfaceInfo, OvsdbClient, OvsdbTimeoutError, Vswitch } from '../../ovsdb/index.js';
import type { Logger } from '../../util/log.js';
import type { BridgeControl, BridgePort } from './deps.js';
import { AgentStoppedError } from './errors.js';
import type { MetadataPortControl } from './metadata-endpoint.js';

/** How long one wait lasts before it is re-armed (waits for the user's add-br are unbounded). */
const WAIT_SLICE_MS = 60_000;

export class OvsdbBridgeControl implements BridgeControl, MetadataPortControl {
  private closed = false;
  private readonly vs: Vswitch;

  /** `tls`: for an `ssl:` target, the agent's key and certificate and the CA the server's is signed by. */
  constructor(
    target: string,
    private readonly log: Logger,
    tls?: { key: string; cert: string; ca: string },
  ) {
    // Reconnects with backoff on its own; the cache is rebuilt after each reconnect.
    const client = new OvsdbClient(target, {
      logger: log,
      backoffMinMs: 100,
      backoffMaxMs: 2000,
      ...(tls ? { tls } : {}),
    });
    this.vs = new Vswitch(client, { logger: log, waitTimeoutMs: 10_000 });
    this.vs.start();
  }

  /** Waits until the monitor cache is loaded (retrying while ovsdb-server is unreachable). */
  async ready(): Promise<void> {
    let warned = false;
    while (!this.closed) {
      try {
        await this.vs.cache.whenSynced(5000);
        return;
      } catch (err) {
        if (!(err instanceof OvsdbTimeoutError)) throw err;
        if (!warned) this.log.warn('ovsdb-server not reachable yet; still trying');
        warned = true;
      }
    }
    throw new AgentStoppedError('connecting to OVSDB');
  }

  async waitForBridge(name: string): Promise<void> {
    await this.ready();
    while (!this.closed) {
      try {
        await this.vs.waitForBridge(name, WAIT_SLICE_MS);
        return;
      } catch (err) {
        if (!(err instanceof OvsdbTimeoutError)) throw err;
        this.log.warn({ bridge: name }, `still waiting for bridge ${name} to exist`);
      }
    }
    throw new AgentStoppedError(`waiting for bridge ${name}`);
  }

  bridgeExists(name: string): boolean {
    return this.vs.synced && this.vs.bridge(name) !== undefined;
  }

  async createBridge(opts: { name: string; datapathType: string }): Promise<void> {
    await this.ready();
    await this.vs.createBridge(opts);
  }

  async takeOverBridge(opts: Parameters<BridgeControl['takeOverBridge']>[0]): Promise<void> {
    await this.ready();
    // Pin the current dpid in other_config so the bridge keeps its identity across OVS restarts
    // (without it a netdev bridge's dpid follows its MAC, which may change).
    const dpid = await this.vs.bridgeDatapathId(opts.name);
    if (opts.ssl) await this.vs.setSsl(opts.ssl);
    await this.vs.takeOverBridge({
      name: opts.name,
      controllers: opts.controllers,
      failMode: opts.failMode,
      protocols: opts.protocols as Parameters<Vswitch['takeOverBridge']>[0]['protocols'],
      disableInBand: opts.disableInBand,
      controllerMaxBackoff: opts.controllerMaxBackoff,
      inactivityProbe: opts.inactivityProbe,
      datapathId: dpid,
    });
  }

  async ensureTunnelPort(opts: { bridge: string; name: string; type: 'gre' | 'vxlan' }): Promise<void> {
    await this.vs.ensureTunnelPort(opts);
  }

  /** The metadata endpoint's port (metadata-endpoint.ts): an internal port, so no device is made outside OVSDB. */
  async addInternalPort(opts: { bridge: string; name: string }): Promise<void> {
    await this.vs.addPort({ ...opts, type: 'internal' });
  }

  /**
   * The internal port removed and added again, keeping its ofport (the flows name it): ovs-vswitchd makes a new
   * device only for a port it has seen go, so the removal is applied before the port comes back.
   */
  async replaceInternalPort(opts: { bridge: string; name: string; ofport: number | null }): Promise<void> {
    const { bridge, name, ofport } = opts;
    await this.vs.deletePort({ bridge, name, applied: true });
    await this.vs.addPort({
      bridge,
      name,
      type: 'internal',
      ...(ofport && ofport > 0 ? { ofportRequest: ofport } : {}),
    });
  }

  waitForOfport(bridge: string, name: string): Promise<number> {
    return this.vs.waitForOfport(bridge, name);
  }

  bridgeDatapathId(name: string): Promise<bigint> {
    return this.vs.bridgeDatapathId(name);
  }

  interfaces(bridge: string): BridgePort[] {
    if (!this.vs.synced || !this.vs.bridge(bridge)) return [];
    return this.vs.interfaces(bridge).map(toPort);
  }

  /**
   * Once per batch of OVSDB changes, not once per interface: the initial load of a bridge with 1,000 ports is 1,000
   * interface events in one batch, and a listener that reads the port list (the metadata endpoint's check) made
   * that a million port conversions before the agent could compute (docs/benchmarks.md, agent restart).
   */
  onInterfacesChanged(listener: () => void): void {
    let queued = false;
    const later = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        if (!this.closed) listener();
      });
    };
    this.vs.on('interface', later);
    this.vs.on('synced', later);
  }

  onBridgeChanged(name: string, listener: (kind: 'added' | 'removed' | 'changed') => void): void {
    this.vs.on('bridge', (ev) => {
      if (ev.bridge.name !== name) return;
      if (ev.kind !== 'changed') listener(ev.kind);
      else if (managedSettings(ev.bridge) !== managedSettings(ev.old)) listener('changed');
    });
  }

  onConnection(listener: (up: boolean) => void): void {
    this.vs.client.on('connected', () => listener(true));
    this.vs.client.on('disconnected', () => listener(false));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.vs.close();
  }
}

/** What takeOverBridge sets, as comparable text: a change here is someone undoing the take-over. */
function managedSettings(b: BridgeInfo): string {
  return JSON.stringify([
    b.failMode,
    [...b.protocols].sort(),
    b.controllers.map((c) => [c.target, c.maxBackoff, c.inactivityProbe]).sort(),
    b.otherConfig['disable-in-band'],
    b.otherConfig['datapath-id'],
  ]);
}

function toPort(i: InterfaceInfo): BridgePort {
  return {
    name: i.name,
    ofport: i.ofport === undefined ? null : i.ofport,
    type: i.type,
    ifaceId: i.ifaceId,
    attachedMac: i.attachedMac,
    macInUse: i.macInUse,
    linkUp: i.linkState === undefined ? undefined : i.linkState === 'up',
  };
}
