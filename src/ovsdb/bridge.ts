// Intent-level, idempotent operations on the local Open vSwitch for the agent: take over a
// bridge, tunnel ports, add/remove ports, read and watch interfaces. Built on the monitor cache;
// the info it returns and the events it emits are derived in vswitch-view.ts.
import { EventEmitter } from 'node:events';
import { isIPv4 } from 'node:net';
import type { Logger } from '../util/log.js';
import { MonitorCache, valuesEqual } from './cache.js';
import { OvsdbClient, type OvsdbClientOptions, type OvsdbTarget } from './client.js';
import { type Datum, map, namedUuid, set, uuid } from './data.js';
import { OvsdbInputError, OvsdbNotFoundError, OvsdbTimeoutError, OvsdbTransactionError } from './errors.js';
import { type OpResult, type Operation, op, where } from './ops.js';
import { type BridgeRow, VSWITCH_COLUMNS, VSWITCH_DB, type VswitchTables } from './vswitch-schema.js';
import {
  type BridgeEvent,
  type BridgeInfo,
  type InterfaceEvent,
  type InterfaceInfo,
  type VswitchEvents,
  VswitchView,
} from './vswitch-view.js';

export const OPENFLOW_PROTOCOLS = [
  'OpenFlow10',
  'OpenFlow11',
  'OpenFlow12',
  'OpenFlow13',
  'OpenFlow14',
  'OpenFlow15',
] as const;
export type OpenFlowProtocol = (typeof OPENFLOW_PROTOCOLS)[number];

export interface TakeOverBridgeOptions {
  name: string;
  /**
   * Controller targets, e.g. ['tcp:127.0.0.1:6633']; replaces the bridge's controllers. Empty: none (the
   * controller dials the bridge's punix: management socket instead, as ovn-controller does).
   */
  controllers: string[];
  failMode?: 'secure' | 'standalone';
  /** Protocols that must be enabled; others already present are kept. */
  protocols?: OpenFlowProtocol[];
  disableInBand?: boolean;
  /** Controller `max_backoff` in ms (>= 1000). */
  controllerMaxBackoff?: number;
  /** Controller `inactivity_probe` in ms (0 disables). */
  inactivityProbe?: number;
  /** other_config:datapath-id: 16 hex digits (with or without 0x). */
  datapathId?: string | bigint;
  /** Used only when the bridge does not exist yet (default 'netdev'). An existing bridge keeps its own. */
  datapathType?: string;
}

export interface SslOptions {
  privateKey: string;
  certificate: string;
  caCert: string;
}

export interface AddPortOptions {
  bridge: string;
  name: string;
  /** Interface type ('' system, 'internal', 'dummy', 'gre', 'vxlan', 'patch', ...). */
  type?: string;
  options?: Record<string, string>;
  /** Interface external_ids (iface-id, attached-mac, ...). */
  externalIds?: Record<string, string>;
  ofportRequest?: number;
}

export interface TunnelPortOptions {
  bridge: string;
  name: string;
  type: 'gre' | 'vxlan';
  localIp?: string;
}

export interface VswitchOptions extends OvsdbClientOptions {
  /** Default wait for state to appear (bridge, datapath_id, cache reflecting a commit). */
  waitTimeoutMs?: number;
}

const BRIDGE_NAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const PORT_NAME_RE = /^[^\s/]{1,255}$/;
const CONTROLLER_RE = /^(tcp|ssl|unix|ptcp|pssl|punix):\S+$/;

/** Normalise a datapath id to the 16 lowercase hex digits other_config:datapath-id wants. */
export function formatDatapathId(dpid: string | bigint, field = 'datapathId'): string {
  let v: bigint;
  if (typeof dpid === 'bigint') v = dpid;
  else {
    const s = dpid.trim().toLowerCase().replace(/^0x/, '').replaceAll(':', '');
    if (!/^[0-9a-f]{1,16}$/.test(s))
      throw new OvsdbInputError(field, `expected up to 16 hex digits, got ${JSON.stringify(dpid)}`);
    v = BigInt(`0x${s}`);
  }
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new OvsdbInputError(field, 'out of 64-bit range');
  return v.toString(16).padStart(16, '0');
}

/**
 * The agent's view of one ovsdb-server: a client, a cache of Open_vSwitch/Bridge/Port/
 * Interface/Controller, and idempotent intents. Intents run one at a time (they read the cache,
 * then write), guard their writes with `wait` operations, and return once the cache shows the
 * result, so the next read sees it.
 */
export class Vswitch extends EventEmitter<VswitchEvents> {
  readonly cache: MonitorCache<VswitchTables>;
  private readonly waitMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  /** Info built from the cache rows, and the events derived from their changes. */
  private readonly view: VswitchView;

  constructor(
    readonly client: OvsdbClient,
    options: { waitTimeoutMs?: number; logger?: Logger } = {},
  ) {
    super();
    this.setMaxListeners(0);
    this.waitMs = options.waitTimeoutMs ?? 10_000;
    const cacheOpts = {
      db: VSWITCH_DB,
      tables: VSWITCH_COLUMNS,
      ...(options.logger ? { logger: options.logger } : {}),
    };
    this.cache = new MonitorCache<VswitchTables>(client, cacheOpts);
    this.view = new VswitchView(this.cache);
    const emit = {
      bridge: (ev: BridgeEvent) => this.emit('bridge', ev),
      interface: (ev: InterfaceEvent) => this.emit('interface', ev),
    };
    this.cache.on('change', (changes) => this.view.apply(changes, emit));
    this.cache.on('synced', () => this.emit('synced'));
    this.cache.on('unsynced', () => this.emit('unsynced'));
  }

  /** Connect to `unix:PATH`/`tcp:HOST:PORT`, start the cache, wait for the first sync. */
  static async connect(target: OvsdbTarget, options: VswitchOptions = {}): Promise<Vswitch> {
    const client = new OvsdbClient(target, options);
    const vs = new Vswitch(client, options);
    vs.start();
    try {
      await vs.cache.whenSynced(options.waitTimeoutMs ?? 10_000);
    } catch (err) {
      vs.close();
      throw err;
    }
    return vs;
  }

  start(): this {
    this.cache.start();
    this.client.start();
    return this;
  }

  close(): void {
    this.cache.stop();
    this.client.close();
  }

  get synced(): boolean {
    return this.cache.synced;
  }

  // ---- reads -------------------------------------------------------------------------------

  bridges(): BridgeInfo[] {
    return [...this.cache.rows('Bridge')].map((b) => this.view.bridgeInfo(b));
  }

  bridge(name: string): BridgeInfo | undefined {
    const b = this.bridgeRow(name);
    return b && this.view.bridgeInfo(b);
  }

  /** Every interface on `bridge` (throws OvsdbNotFoundError if there is no such bridge). */
  interfaces(bridge: string): InterfaceInfo[] {
    const b = this.bridgeRow(bridge);
    if (!b) throw new OvsdbNotFoundError('bridge', bridge);
    return this.view.interfacesOf(b);
  }

  /** Interface `name` if it is on `bridge` (names are unique in the database). */
  interface(bridge: string, name: string): InterfaceInfo | undefined {
    const row = this.cache.find('Interface', (x) => x.name === name);
    const info = row && this.view.currentInterface(row._uuid);
    return info?.bridge === bridge ? info : undefined;
  }

  /** Resolves with the bridge once it exists (and the cache is synced). */
  waitForBridge(name: string, timeoutMs = this.waitMs): Promise<BridgeInfo> {
    return this.cache.until(() => this.synced && this.bridge(name), timeoutMs, `bridge ${name}`);
  }

  /** The Bridge `datapath_id` as bigint, waiting until ovs-vswitchd has filled it in. */
  async bridgeDatapathId(name: string, timeoutMs = this.waitMs): Promise<bigint> {
    const b = await this.cache.until(
      () => {
        const row = this.synced ? this.bridgeRow(name) : undefined;
        return row?.datapath_id ? row : undefined;
      },
      timeoutMs,
      `datapath_id of bridge ${name}`,
    );
    return BigInt(`0x${b.datapath_id}`);
  }

  /** The OpenFlow port number of interface `name` on `bridge`, once vswitchd assigned it. */
  async waitForOfport(bridge: string, name: string, timeoutMs = this.waitMs): Promise<number> {
    const i = await this.cache.until(
      () => {
        if (!this.synced) return undefined;
        const iface = this.interface(bridge, name);
        return iface?.ofport !== undefined && iface.ofport !== 0 ? iface : undefined;
      },
      timeoutMs,
      `ofport of ${bridge}/${name}`,
    );
    if (i.ofport === -1)
      throw new OvsdbInputError('name', `ovs-vswitchd could not add ${name}: ${i.error ?? 'unknown error'}`);
    return i.ofport!;
  }

  // ---- intents -----------------------------------------------------------------------------

  /** Ensure bridge `name` exists with `datapath_type` (idempotent; changes the type if it differs). */
  async createBridge(o: { name: string; datapathType?: string }): Promise<BridgeInfo> {
    checkBridgeName(o.name, 'name');
    return this.serial(async () => {
      const dpType = o.datapathType ?? 'netdev';
      await this.transactIdempotent(`create bridge ${o.name}`, () => {
        const b = this.bridgeRow(o.name);
        if (b)
          return b.datapath_type === dpType
            ? []
            : [op.update('Bridge', [where.eq('_uuid', uuid(b._uuid))], { datapath_type: dpType })];
        return this.insertBridgeOps(o.name, dpType);
      });
      return this.waitState(() => {
        const b = this.bridge(o.name);
        return b?.datapathType === dpType ? b : undefined;
      }, `bridge ${o.name}`);
    });
  }

  /** Remove bridge `name` with its ports (no-op if absent). */
  deleteBridge(name: string): Promise<void> {
    return this.serial(async () => {
      await this.transactIdempotent(`delete bridge ${name}`, () => {
        const b = this.bridgeRow(name);
        const ovs = this.ovsRow();
        if (!b) return [];
        return [
          op.mutate(
            'Open_vSwitch',
            [where.eq('_uuid', uuid(ovs._uuid))],
            [['bridges', 'delete', set([uuid(b._uuid)])]],
          ),
        ];
      });
      await this.waitState(() => !this.bridgeRow(name), `bridge ${name} gone`);
    });
  }

  // Intents validate before touching anything; bad input rejects with OvsdbInputError.

  /**
   * Make the bridge ours: controllers, fail mode, protocols (added to those present),
   * disable-in-band and datapath-id, creating the bridge if it does not exist. Writes nothing
   * when the bridge already looks like that.
   */
  async takeOverBridge(o: TakeOverBridgeOptions): Promise<BridgeInfo> {
    checkBridgeName(o.name, 'name');
    if (!Array.isArray(o.controllers)) {
      throw new OvsdbInputError('controllers', 'expected a list of controller targets');
    }
    o.controllers.forEach((c, i) => {
      if (typeof c !== 'string' || !CONTROLLER_RE.test(c)) {
        throw new OvsdbInputError(
          `controllers[${i}]`,
          `expected tcp:HOST:PORT (or ssl:, unix:, ptcp:...), got ${JSON.stringify(c)}`,
        );
      }
    });
    const failMode = o.failMode ?? 'secure';
    if (failMode !== 'secure' && failMode !== 'standalone')
      throw new OvsdbInputError('failMode', 'must be secure or standalone');
    const protocols = o.protocols ?? ['OpenFlow13'];
    protocols.forEach((p, i) => {
      if (!OPENFLOW_PROTOCOLS.includes(p))
        throw new OvsdbInputError(`protocols[${i}]`, `unknown protocol ${JSON.stringify(p)}`);
    });
    if (
      o.controllerMaxBackoff !== undefined &&
      (!Number.isInteger(o.controllerMaxBackoff) || o.controllerMaxBackoff < 1000)
    ) {
      throw new OvsdbInputError('controllerMaxBackoff', 'must be an integer >= 1000 (ms)');
    }
    if (o.inactivityProbe !== undefined && (!Number.isInteger(o.inactivityProbe) || o.inactivityProbe < 0)) {
      throw new OvsdbInputError('inactivityProbe', 'must be an integer >= 0 (ms)');
    }
    const dpid = o.datapathId === undefined ? undefined : formatDatapathId(o.datapathId);
    const targets = [...new Set(o.controllers)];
    const wantConfig: Record<string, string> = {};
    if (o.disableInBand !== undefined) wantConfig['disable-in-band'] = String(o.disableInBand);
    if (dpid !== undefined) wantConfig['datapath-id'] = dpid;

    return this.serial(async () => {
      await this.transactIdempotent(`take over bridge ${o.name}`, () => {
        const ops: Operation[] = [];
        const b = this.bridgeRow(o.name);
        let bridgeRef: Datum;
        let current: Pick<BridgeRow, 'controller' | 'protocols' | 'fail_mode' | 'other_config'>;
        if (!b) {
          ops.push(...this.insertBridgeOps(o.name, o.datapathType ?? 'netdev'));
          bridgeRef = namedUuid('bridge');
          current = { controller: [], protocols: [], fail_mode: undefined, other_config: new Map() };
        } else {
          bridgeRef = uuid(b._uuid);
          current = b;
          // Optimistic concurrency: if someone else changed these columns since our cache saw
          // them, the wait fails ("timed out") and transactIdempotent retries on fresh data.
          ops.push(
            op.wait(
              'Bridge',
              [where.eq('_uuid', bridgeRef)],
              ['controller', 'protocols', 'fail_mode', 'other_config'],
              '==',
              [
                {
                  controller: set(b.controller.map(uuid)),
                  protocols: set(b.protocols),
                  fail_mode: set(b.fail_mode === undefined ? [] : [b.fail_mode]),
                  other_config: map(b.other_config),
                },
              ],
              0,
            ),
          );
        }
        const whereBridge = [where.eq('_uuid', bridgeRef)];
        const update: Record<string, Datum> = {};
        if (current.fail_mode !== failMode) update.fail_mode = failMode;
        const protos = [...new Set([...current.protocols, ...protocols])];
        if (!valuesEqual(protos, current.protocols)) update.protocols = set(protos);
        // Controllers: reuse rows whose targets already match; otherwise replace the set (the
        // old Controller rows are not root, so ovsdb-server garbage-collects them).
        const ctrls = current.controller.map((u) => this.cache.get('Controller', u)).filter((c) => c !== undefined);
        const sameTargets = ctrls.length === targets.length && ctrls.every((c) => targets.includes(c.target));
        const ctrlRow: Record<string, Datum> = {};
        if (o.controllerMaxBackoff !== undefined) ctrlRow.max_backoff = o.controllerMaxBackoff;
        if (o.inactivityProbe !== undefined) ctrlRow.inactivity_probe = o.inactivityProbe;
        if (sameTargets && ctrls.length === current.controller.length) {
          for (const c of ctrls) {
            const stale =
              (o.controllerMaxBackoff !== undefined && c.max_backoff !== o.controllerMaxBackoff) ||
              (o.inactivityProbe !== undefined && c.inactivity_probe !== o.inactivityProbe);
            if (stale) ops.push(op.update('Controller', [where.eq('_uuid', uuid(c._uuid))], ctrlRow));
          }
        } else {
          targets.forEach((t, i) => {
            ops.push(op.insert('Controller', { target: t, ...ctrlRow }, `ctrl${i}`));
          });
          update.controller = set(targets.map((_, i) => namedUuid(`ctrl${i}`)));
        }
        if (Object.keys(update).length) ops.push(op.update('Bridge', whereBridge, update));
        const staleKeys = Object.entries(wantConfig).filter(([k, v]) => current.other_config.get(k) !== v);
        if (staleKeys.length) {
          const keys = staleKeys.map(([k]) => k);
          ops.push(
            op.mutate('Bridge', whereBridge, [
              ['other_config', 'delete', set(keys)],
              ['other_config', 'insert', map(Object.fromEntries(staleKeys))],
            ]),
          );
        }
        // Only the guard left: nothing to change.
        return ops.length === 1 && ops[0]!.op === 'wait' ? [] : ops;
      });
      return this.waitState(() => {
        const b = this.bridge(o.name);
        if (!b || b.failMode !== failMode) return undefined;
        if (!protocols.every((p) => b.protocols.includes(p))) return undefined;
        if (b.controllers.length !== targets.length || !b.controllers.every((c) => targets.includes(c.target)))
          return undefined;
        if (Object.entries(wantConfig).some(([k, v]) => b.otherConfig[k] !== v)) return undefined;
        return b;
      }, `bridge ${o.name} taken over`);
    });
  }

  /**
   * ovs-vswitchd's SSL files (`ovs-vsctl set-ssl KEY CERT CA`): the key and certificate it presents on every
   * `ssl:` connection (controllers, managers) and the CA it verifies the peer's certificate against. Paths on the
   * switch's host, read by ovs-vswitchd. Writes nothing when they are set already.
   */
  async setSsl(o: SslOptions): Promise<void> {
    for (const k of ['privateKey', 'certificate', 'caCert'] as const)
      if (typeof o[k] !== 'string' || !o[k].startsWith('/')) throw new OvsdbInputError(k, 'must be an absolute path');
    const want = { private_key: o.privateKey, certificate: o.certificate, ca_cert: o.caCert, bootstrap_ca_cert: false };
    const current = () => {
      const ref = this.ovsRow().ssl;
      return ref === undefined ? undefined : this.cache.get('SSL', ref);
    };
    const same = () => {
      const c = current();
      return c !== undefined && Object.entries(want).every(([k, v]) => c[k as keyof typeof want] === v);
    };
    return this.serial(async () => {
      await this.transactIdempotent('set SSL', () => {
        if (same()) return [];
        const c = current();
        if (c) return [op.update('SSL', [where.eq('_uuid', uuid(c._uuid))], want)];
        return [
          op.insert('SSL', want, 'ssl'),
          op.update('Open_vSwitch', [where.eq('_uuid', uuid(this.ovsRow()._uuid))], { ssl: namedUuid('ssl') }),
        ];
      });
      await this.waitState(() => same() || undefined, 'SSL settings');
    });
  }

  /**
   * Ensure a flow-based tunnel port (`options:remote_ip=flow`, `options:key=flow`, and
   * `local_ip` when given) named `name` on `bridge`; fixes type/options if they differ.
   */
  async ensureTunnelPort(o: TunnelPortOptions): Promise<InterfaceInfo> {
    if (o.type !== 'gre' && o.type !== 'vxlan') throw new OvsdbInputError('type', 'must be gre or vxlan');
    if (o.localIp !== undefined && !isIPv4(o.localIp))
      throw new OvsdbInputError('localIp', `not an IPv4 address: ${o.localIp}`);
    const options: Record<string, string> = { remote_ip: 'flow', key: 'flow' };
    if (o.localIp !== undefined) options.local_ip = o.localIp;
    return this.addPort({ bridge: o.bridge, name: o.name, type: o.type, options });
  }

  /**
   * Ensure port `name` (one interface of the same name) is on `bridge` with this type, options
   * and external_ids (idempotent: updates what differs; fails if the port is on another bridge).
   */
  async addPort(o: AddPortOptions): Promise<InterfaceInfo> {
    checkBridgeName(o.bridge, 'bridge');
    if (typeof o.name !== 'string' || !PORT_NAME_RE.test(o.name))
      throw new OvsdbInputError('name', `invalid port name ${JSON.stringify(o.name)}`);
    if (
      o.ofportRequest !== undefined &&
      (!Number.isInteger(o.ofportRequest) || o.ofportRequest < 1 || o.ofportRequest > 65279)
    ) {
      throw new OvsdbInputError('ofportRequest', 'must be an integer 1..65279');
    }
    const type = o.type ?? '';
    const options = o.options ?? {};
    for (const [k, v] of Object.entries({ ...options, ...o.externalIds })) {
      if (typeof v !== 'string') throw new OvsdbInputError(`options.${k}`, 'values must be strings');
    }
    const matches = (i: InterfaceInfo) =>
      i.type === type &&
      valuesEqual(new Map(Object.entries(i.options)), new Map(Object.entries(options))) &&
      (o.externalIds === undefined || Object.entries(o.externalIds).every(([k, v]) => i.externalIds[k] === v));
    return this.serial(async () => {
      await this.transactIdempotent(`add port ${o.bridge}/${o.name}`, () => {
        const b = this.bridgeRow(o.bridge);
        if (!b) throw new OvsdbNotFoundError('bridge', o.bridge);
        const port = this.cache.find('Port', (p) => p.name === o.name);
        if (port) {
          const owner = this.cache.find('Bridge', (x) => x.ports.includes(port._uuid));
          if (owner && owner._uuid !== b._uuid)
            throw new OvsdbInputError('name', `port ${o.name} is on bridge ${owner.name}`);
          const existing = owner ? this.interface(o.bridge, o.name) : undefined;
          if (existing && matches(existing)) return [];
          const ifaceUuid = this.cache.find(
            'Interface',
            (i) => i.name === o.name && port.interfaces.includes(i._uuid),
          )?._uuid;
          const ops: Operation[] = [];
          if (ifaceUuid) {
            const row: Record<string, Datum> = { type, options: map(options) };
            if (o.ofportRequest !== undefined) row.ofport_request = o.ofportRequest;
            ops.push(op.update('Interface', [where.eq('_uuid', uuid(ifaceUuid))], row));
            if (o.externalIds && Object.keys(o.externalIds).length) {
              ops.push(
                op.mutate(
                  'Interface',
                  [where.eq('_uuid', uuid(ifaceUuid))],
                  [
                    ['external_ids', 'delete', set(Object.keys(o.externalIds))],
                    ['external_ids', 'insert', map(o.externalIds)],
                  ],
                ),
              );
            }
          }
          if (!owner)
            ops.push(
              op.mutate('Bridge', [where.eq('_uuid', uuid(b._uuid))], [['ports', 'insert', set([uuid(port._uuid)])]]),
            );
          return ops;
        }
        const iface: Record<string, Datum> = { name: o.name, type, options: map(options) };
        if (o.externalIds) iface.external_ids = map(o.externalIds);
        if (o.ofportRequest !== undefined) iface.ofport_request = o.ofportRequest;
        return [
          op.insert('Interface', iface, 'iface'),
          op.insert('Port', { name: o.name, interfaces: set([namedUuid('iface')]) }, 'port'),
          op.mutate('Bridge', [where.eq('_uuid', uuid(b._uuid))], [['ports', 'insert', set([namedUuid('port')])]]),
        ];
      });
      return this.waitState(() => {
        const i = this.interface(o.bridge, o.name);
        return i && matches(i) ? i : undefined;
      }, `port ${o.bridge}/${o.name}`);
    });
  }

  /**
   * Remove port `name` from `bridge` (no-op if it is not there). `applied`: also wait until ovs-vswitchd has acted
   * on it (its cur_cfg reaches the next_cfg this transaction sets) — a port of the same name added right after
   * would otherwise meet the removal in one reconfiguration, and ovs-vswitchd would keep the old device open.
   */
  deletePort(o: { bridge: string; name: string; applied?: boolean }): Promise<void> {
    return this.serial(async () => {
      const res = await this.transactIdempotent(`delete port ${o.bridge}/${o.name}`, () => {
        const b = this.bridgeRow(o.bridge);
        if (!b) return [];
        const port = b.ports.map((u) => this.cache.get('Port', u)).find((p) => p?.name === o.name);
        if (!port) return [];
        const ops: Operation[] = [
          op.mutate('Bridge', [where.eq('_uuid', uuid(b._uuid))], [['ports', 'delete', set([uuid(port._uuid)])]]),
        ];
        if (o.applied) {
          const root = [where.eq('_uuid', uuid(this.ovsRow()._uuid))];
          ops.push(op.mutate('Open_vSwitch', root, [['next_cfg', '+=', 1]]));
          ops.push(op.select('Open_vSwitch', root, ['next_cfg']));
        }
        return ops;
      });
      await this.waitState(() => {
        const b = this.bridgeRow(o.bridge);
        return !b?.ports.some((u) => this.cache.get('Port', u)?.name === o.name);
      }, `port ${o.bridge}/${o.name} gone`);
      const selected = res.find((r) => r.op === 'select');
      const cfg = selected?.op === 'select' ? Number(selected.rows[0]?.next_cfg) : Number.NaN;
      if (Number.isInteger(cfg))
        await this.waitState(
          () => this.ovsRow().cur_cfg >= cfg,
          `ovs-vswitchd to apply the removal of ${o.bridge}/${o.name} (cur_cfg ${cfg})`,
        );
    });
  }

  // ---- internals ---------------------------------------------------------------------------

  private insertBridgeOps(name: string, datapathType: string): Operation[] {
    const ovs = this.ovsRow();
    return [
      op.insert('Interface', { name, type: 'internal' }, 'brif'),
      op.insert('Port', { name, interfaces: set([namedUuid('brif')]) }, 'brport'),
      op.insert('Bridge', { name, datapath_type: datapathType, ports: set([namedUuid('brport')]) }, 'bridge'),
      op.mutate(
        'Open_vSwitch',
        [where.eq('_uuid', uuid(ovs._uuid))],
        [['bridges', 'insert', set([namedUuid('bridge')])]],
      ),
    ];
  }

  private ovsRow() {
    const ovs = this.cache.rows('Open_vSwitch').next().value;
    if (!ovs) throw new OvsdbNotFoundError('bridge', 'Open_vSwitch root row (run ovs-vsctl init)');
    return ovs;
  }

  /** Run intents one at a time, so each reads a cache that includes the previous one's result. */
  private serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(() => this.cache.whenSynced(this.waitMs)).then(fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Plan ops from the cache and commit them; an empty plan writes nothing. A failed `wait`
   * guard (someone changed the row meanwhile) or a name clash with a row our cache did not
   * have yet is retried on the fresher cache a few times.
   */
  private async transactIdempotent(what: string, plan: () => Operation[]): Promise<OpResult[]> {
    for (let attempt = 0; ; attempt++) {
      const ops = plan();
      if (ops.length === 0) return [];
      try {
        const res = await this.client.transact(VSWITCH_DB, [op.comment(`vnet: ${what}`), ...ops]);
        const insert = res.find((r) => r.op === 'insert');
        if (insert && insert.op === 'insert') {
          await this.cache.until(() => this.rowSeen(insert.uuid), this.waitMs, `${what}: cache update`);
        }
        return res;
      } catch (err) {
        const retryable =
          err instanceof OvsdbTransactionError &&
          (err.error === 'timed out' || err.error === 'constraint violation') &&
          attempt < 3;
        if (!retryable) throw err;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  }

  private rowSeen(u: string): boolean {
    for (const t of ['Interface', 'Port', 'Bridge', 'Controller', 'SSL'] as const)
      if (this.cache.get(t, u)) return true;
    return false;
  }

  private waitState<R>(fn: () => R | undefined | false, what: string): Promise<R> {
    return this.cache.until(fn, this.waitMs, what).catch((err) => {
      if (err instanceof OvsdbTimeoutError)
        throw new OvsdbTimeoutError(`${what}: committed but not seen in the cache (${err.message})`);
      throw err;
    });
  }

  private bridgeRow(name: string) {
    return this.cache.find('Bridge', (b) => b.name === name);
  }
}

function checkBridgeName(name: unknown, field: string): void {
  if (typeof name !== 'string' || !BRIDGE_NAME_RE.test(name)) {
    throw new OvsdbInputError(field, `invalid bridge name ${JSON.stringify(name)} (1-15 of [A-Za-z0-9_.-])`);
  }
}
