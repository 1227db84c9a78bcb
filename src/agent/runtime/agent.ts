// The `vnet agent` process core: identity, feed following, flow reconciliation. Driven from here, each in its own
// file: the bridge take-over (bridge-takeover.ts), this host's ports (host-ports.ts), meters (meters.ts),
// gratuitous ARPs (announcer.ts), binding and status reports (status-reports.ts), DHCP packet-ins
// (packet-in.ts), datapath registration (datapath-registration.ts) and the server's trace requests
// (server-requests.ts); what status() tells is agent-status.ts. Talks to the world only through deps.ts seams.
import { formatDpid } from '../../model/params.js';
import { normalizeFlow } from '../../openflow/normalize.js';
import type { Flow, FlowMod } from '../../openflow/types.js';
import { Backoff, sleep } from '../../util/backoff.js';
import type { Logger } from '../../util/log.js';
import {
  applyChange,
  type Binding,
  buildModelView,
  type ChangeKey,
  datapathByDpid,
  diffFlows,
  keyFlows,
  type FeedResources,
  FlowCompiler,
  metersOf,
  type ModelView,
  tunnelAddress,
  uplinkProblems,
} from '../pipeline/index.js';
import type {
  AgentObserver,
  ApiLike,
  BridgeControl,
  DhcpHandler,
  DnsHandler,
  FeedEvent,
  FeedSource,
  SwitchLink,
  SwitchListener,
  VswitchControl,
} from './deps.js';
import { errText } from './errors.js';
import type { AgentConfig } from './options.js';
import { Announcer } from './announcer.js';
import { ChangeSpans, type PassTrace } from './change-span.js';
import { ensureBridge, takeOverBridge } from './bridge-takeover.js';
import { HostPorts } from './host-ports.js';
import { Meters } from './meters.js';
import type { DnsTcpAnswer, MetadataLookup, MetadataService } from './metadata-endpoint.js';
import { METADATA_IP } from '../pipeline/metadata.js';
import { PacketInHandler } from './packet-in.js';
import { Reporter } from './reporter.js';
import { SnatUsage } from './snat-usage.js';
import { StartupSpan } from './startup-span.js';
import { StatusReports } from './status-reports.js';
import type { AgentPhase, AgentStatus } from './agent-status.js';
import { DatapathRegistration } from './datapath-registration.js';
import { ServerRequests } from './server-requests.js';

export interface AgentDeps {
  config: AgentConfig;
  log: Logger;
  bridge: BridgeControl;
  switches: SwitchListener;
  feed: FeedSource;
  api: ApiLike;
  /** Builds the DHCP service over the agent's model, given as its current view (absent: DHCP is not answered). */
  dhcp?: ((model: () => ModelView | null) => DhcpHandler) | undefined;
  /** Builds the DNS service over the agent's model (absent: DNS queries punted to the agent are not answered). */
  dns?: ((model: () => ModelView | null) => DnsHandler) | undefined;
  /** Builds the metadata endpoint (169.254.169.254) over the agent's bindings and model; absent: no metadata. */
  metadata?: ((lookup: MetadataLookup, dnsTcp?: DnsTcpAnswer) => MetadataService) | undefined;
  /** Hears what is measured as it happens (sync durations: the metrics' histogram); absent: nobody. */
  observer?: AgentObserver | undefined;
  /** ovs-vswitchd's control socket, for traces; absent: traces are refused with the reason. */
  vswitch?: VswitchControl | undefined;
  /** The process's start-up milestones so far (runAgent marks the code loaded); absent: a fresh one. */
  startup?: StartupSpan | undefined;
}

export class Agent {
  private readonly cfg: AgentConfig;
  private readonly log: Logger;
  private readonly reporter: Reporter;
  private readonly reports: StatusReports;
  private readonly packetIns: PacketInHandler;
  private phase: AgentPhase = 'starting';
  private stopped = false;

  private dpid: bigint | null = null;
  private datapathUuid: string | null = null;
  /** The agent's one copy of the model: built by the feed's snapshot, kept current by its changes. */
  private view: ModelView | null = null;
  private compiler = new FlowCompiler();
  /** Change keys applied to the view since the last compile. */
  private pendingKeys = new Set<ChangeKey>();
  /** The feed changes behind pendingKeys, timed for the next pass's span (change-span.ts). */
  private readonly spans = new ChangeSpans();
  /** Process start → first flows in sync, logged once (startup-span.ts). */
  private readonly startup: StartupSpan;
  /** The next sync must diff the switch's table against the whole desired set (not send the compiler's delta). */
  private fullDiff = true;
  private readonly hostPorts: HostPorts;
  private readonly meters: Meters;
  private readonly announcer: Announcer;
  private readonly snatUsage: SnatUsage;
  private readonly metadata: MetadataService | undefined;
  private link: SwitchLink | null = null;
  /** The switch's flow table, read from the moment it connected: the dump overlaps the snapshot and the compute. */
  private dumping: { link: SwitchLink; flows: Promise<Flow[]> } | null = null;
  /** What the switch holds, as far as we know; null = unknown (read it before diffing). */
  private installed: Flow[] | null = null;
  private flowsInSync = false;
  private lastError: string | null = null;
  /** The uplink problems last noted (they stay in lastError until resolved). */
  private uplinkError: string | null = null;
  private bound: Binding[] = [];
  private setupRunning = false;
  private setupAgain = false;
  private readonly registration: DatapathRegistration;
  private readonly requests: ServerRequests;

  private running: Promise<void> | null = null;
  private rerun = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly counters = { syncs: 0, flowModsSent: 0, openflowReconnects: 0, ovsdbReconnects: 0 };
  private ovsdbConnected = false;
  private feedServer: string | null = null;
  /** Connections seen so far (the first one is no reconnect). */
  private switchConnections = 0;
  private ovsdbConnections = 0;

  constructor(private readonly deps: AgentDeps) {
    this.cfg = deps.config;
    this.log = deps.log;
    this.startup = deps.startup ?? new StartupSpan();
    const dns = deps.dns?.(() => this.view);
    this.packetIns = new PacketInHandler(
      deps.dhcp?.(() => this.view),
      // A host serving metadata hands networks without a router a DHCP route to it.
      {
        encap: this.cfg.encap,
        underlayMtu: this.cfg.underlayMtu,
        metadataIp: deps.metadata && this.cfg.metadata ? METADATA_IP : null,
      },
      deps.log,
      dns,
    );
    this.reporter = new Reporter(
      {
        reportDatapathStatus: (uuid, body) => deps.api.reportDatapathStatus(uuid, body),
        reportInterfaceBinding: (uuid, body) => deps.api.reportInterfaceBinding(uuid, body),
        reportTranslationStatus: (uuid, body) => deps.api.reportTranslationStatus(uuid, body),
      },
      deps.log.child({ component: 'reporter' }),
    );
    this.reports = new StatusReports(this.cfg, this.reporter, deps.log);
    this.hostPorts = new HostPorts(this.cfg, deps.bridge, deps.log, () => this.kick());
    this.registration = new DatapathRegistration(this.cfg, deps.api, deps.log, (ms) => this.scheduleRetry(ms));
    this.requests = new ServerRequests(deps, this.hostPorts, () => ({
      phase: this.phase,
      view: this.view,
      datapathUuid: this.datapathUuid,
      bound: this.bound,
    }));
    this.meters = new Meters(deps.log);
    this.announcer = new Announcer(deps.log);
    this.snatUsage = new SnatUsage(deps.vswitch, this.cfg.snatPorts, deps.log.child({ component: 'snat' }));
    // Who asks the metadata server is the port its request came in on: the binding there, as the flows have it.
    // DNS over TCP reaches the agent through the same port and listener (pipeline/metadata.ts dnsTcpFlows).
    this.metadata = deps.metadata?.((ofport) => {
      for (const b of this.compiler.currentBindings().values()) {
        if (b.ofport !== ofport) continue;
        const iface = this.view?.interfaces.get(b.interfaceUuid);
        return iface ? { iface, networkUuid: b.networkUuid } : null;
      }
      return null;
    }, dns?.handleTcp?.bind(dns));
  }

  /** Starts everything and returns; progress continues in the background (see status()). */
  start(): void {
    this.startup.mark('started');
    this.log.info(
      {
        server: this.cfg.server,
        nodeId: this.cfg.nodeId,
        bridge: this.cfg.bridge,
        ovsdb: this.cfg.ovsdb,
        switch: this.deps.switches.describe,
        encap: this.cfg.encap,
        tunnelIp: this.cfg.tunnelIp,
      },
      'agent starting',
    );
    this.deps.switches.onSwitch((link) => this.onSwitch(link));
    this.deps.bridge.onInterfacesChanged(() => this.kick());
    this.deps.bridge.onBridgeChanged(this.cfg.bridge, (kind) => this.onBridgeChanged(kind));
    this.deps.bridge.onConnection((up) => {
      this.ovsdbConnected = up;
      if (up) this.startup.mark('ovsdb_connected');
      if (up && this.ovsdbConnections++ > 0) this.counters.ovsdbReconnects++;
      this.log.info({ ovsdb: this.cfg.ovsdb, up }, up ? 'OVSDB connected' : 'OVSDB connection lost; reconnecting');
      if (up) this.kick();
    });
    this.deps.feed.start((ev) => this.onFeed(ev));
    void this.bridgeSetup();
  }

  /**
   * The metadata endpoint starts once the flows are first in sync, not with the agent: its set-up runs `ip` five
   * times, and each spawn blocked this process for 50–100 ms at load 12 (a fork of a large process), on a
   * restart's critical path. A restarted agent finds the port and the namespace where the last one left them.
   */
  private metadataStarted = false;
  private startMetadata(): void {
    if (this.metadataStarted || this.stopped) return;
    this.metadataStarted = true;
    this.metadata?.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.phase = 'stopped';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.snatUsage.close();
    // Flows stay: fail_mode=secure keeps isolation and established traffic while we are away.
    this.log.info({ installedFlows: this.installed?.length ?? null }, 'agent stopping; flows stay installed');
    try {
      await this.running;
    } catch {
      /* reported already */
    }
    await this.metadata?.stop();
    await this.reporter.idle(1000);
    this.reporter.close();
    this.deps.feed.close();
    this.link?.close();
    await this.deps.switches.close();
    await this.deps.bridge.close();
  }

  status(): AgentStatus {
    return {
      phase: this.phase,
      dpid: this.dpid === null ? null : formatDpid(this.dpid),
      datapathUuid: this.datapathUuid,
      switchConnected: this.link !== null,
      ovsdbConnected: this.ovsdbConnected,
      flowsInSync: this.flowsInSync,
      installedFlows: this.installed?.length ?? 0,
      desiredFlows: this.compiler.flows().length,
      lastError: this.lastError,
      warnings: this.reports.warnings(this.view, this.datapathUuid ? this.dpid : null),
      bound: [...this.bound],
      feedRevision: this.view?.revision ?? 0,
      feedServer: this.feedServer,
      counters: {
        ...this.counters,
        ...this.packetIns.counters,
        packetInsByKind: { ...this.packetIns.byKind },
        dhcpEvents: { ...this.packetIns.dhcpEvents },
        dnsEvents: { ...this.packetIns.dnsEvents },
        reportsSent: this.reporter.stats.sent,
      },
      snat: this.snatUsage.status(),
    };
  }

  // ---------------------------------------------------------------- bridge

  /** The bridge went away, came back, or its managed settings were changed behind our back. */
  private onBridgeChanged(kind: 'added' | 'removed' | 'changed'): void {
    if (this.stopped) return;
    if (kind === 'removed') {
      this.log.warn({ bridge: this.cfg.bridge }, 'bridge was deleted; waiting for it to come back');
      this.dpid = null;
      this.datapathUuid = null;
      this.installed = null;
      this.fullDiff = true;
      this.flowsInSync = false;
      this.link?.close();
      this.link = null;
      this.phase = 'waiting-for-bridge';
    } else if (kind === 'changed') {
      this.log.warn({ bridge: this.cfg.bridge }, 'bridge settings changed by someone else; taking it over again');
    }
    void this.bridgeSetup();
  }

  private async bridgeSetup(): Promise<void> {
    // One setup at a time; a request during one runs it again afterwards (it is idempotent).
    if (this.setupRunning) {
      this.setupAgain = true;
      return;
    }
    this.setupRunning = true;
    try {
      do {
        this.setupAgain = false;
        await this.bridgeSetupOnce();
      } while (this.setupAgain && !this.stopped);
    } finally {
      this.setupRunning = false;
    }
  }

  private async bridgeSetupOnce(): Promise<void> {
    const { bridge: name } = this.cfg;
    const ovs = this.deps.bridge;
    // 400 ms doubling to 5 s between failed attempts.
    const retry = new Backoff({ initialMs: 400, maxMs: 5000 });
    while (!this.stopped) {
      try {
        await ensureBridge(ovs, this.cfg, this.log, () => {
          this.phase = 'waiting-for-bridge';
          this.kick();
        });
        this.startup.mark('ovsdb_ready');
        this.phase = 'taking-over-bridge';
        const { controller } = this.deps.switches;
        this.dpid = await takeOverBridge(ovs, name, controller, this.cfg.switchSsl);
        this.startup.mark('bridge_taken_over');
        this.log.info(
          { bridge: name, dpid: formatDpid(this.dpid), controller: controller ?? 'none', failMode: 'secure' },
          'bridge taken over: controller set, fail_mode=secure, tunnel ports present',
        );
        if (this.phase === 'taking-over-bridge') this.phase = 'waiting-for-datapath';
        if (this.link && this.link.dpid !== this.dpid) {
          this.log.warn({ connected: formatDpid(this.link.dpid) }, 'connected switch is not our bridge; dropping it');
          this.link.close();
          this.link = null;
        }
        this.kick();
        return;
      } catch (err) {
        if (this.stopped) return;
        const delay = retry.next();
        this.setError(`bridge setup failed: ${errText(err)}`);
        this.log.error({ err: errText(err), retryInMs: delay }, 'bridge setup failed; retrying');
        await sleep(delay);
      }
    }
  }

  // ---------------------------------------------------------------- switch

  private onSwitch(link: SwitchLink): void {
    if (this.stopped) {
      link.close();
      return;
    }
    if (this.dpid !== null && link.dpid !== this.dpid) {
      this.log.warn(
        { connected: formatDpid(link.dpid), ours: formatDpid(this.dpid) },
        'a switch that is not our bridge connected; closing it',
      );
      link.close();
      return;
    }
    const old = this.link;
    if (old && old !== link) {
      // A second connection claiming our bridge: the live one stays (an impostor never displaces the switch);
      // one that no longer answers is replaced (the switch reconnected and the old session is dead).
      void old.isAlive(1000).then((alive) => {
        if (this.stopped || this.link !== old) return link.close();
        if (alive) {
          this.log.warn(
            { dpid: formatDpid(link.dpid) },
            'a second connection claims our bridge while the switch answers; closing the newcomer',
          );
          link.close();
          return;
        }
        old.close();
        this.adoptSwitch(link);
      });
      return;
    }
    this.adoptSwitch(link);
  }

  private adoptSwitch(link: SwitchLink): void {
    this.link = link;
    this.startup.mark('switch_connected');
    if (this.switchConnections++ > 0) this.counters.openflowReconnects++;
    this.installed = null;
    this.flowsInSync = false;
    this.log.info({ dpid: formatDpid(link.dpid) }, 'switch connected; reading its flows before any change');
    // Read-only, and nothing is sent to the switch before it is read; a failure is met where it is awaited.
    const flows = link.dumpFlows();
    flows.catch(() => undefined);
    this.dumping = { link, flows };
    link.onClose((reason) => {
      if (this.link !== link) return;
      this.link = null;
      this.installed = null;
      this.flowsInSync = false;
      this.log.warn({ reason }, 'switch disconnected; flows stay on the switch (fail_mode=secure)');
      this.kick();
    });
    link.onPacketIn((ev) => this.packetIns.handle(link, ev, this.datapathUuid === null ? null : this.bound));
    this.kick();
  }

  // ---------------------------------------------------------------- feed

  private onFeed(ev: FeedEvent): void {
    if (this.stopped) return;
    switch (ev.kind) {
      case 'snapshot':
        this.view = buildModelView(ev.resources as FeedResources, ev.revision);
        this.startup.mark('snapshot');
        // A fresh compiler: its first delta is "everything", so diff against the switch instead.
        this.compiler = new FlowCompiler();
        this.pendingKeys.clear();
        this.spans.reset();
        this.fullDiff = true;
        this.log.info(
          { revision: ev.revision, counts: countResources(ev.resources) },
          'model snapshot loaded from the server',
        );
        break;
      case 'change': {
        const c = ev.change;
        if (!this.view) return;
        this.spans.received(c.revision, c.committed_at);
        // A status-only change (our own reports coming back, too) updates the view but yields no keys.
        for (const k of applyChange(this.view, c)) this.pendingKeys.add(k);
        this.spans.applied();
        this.reporter.changed(c.resource, c.uuid, c.op);
        this.log.debug({ revision: c.revision, resource: c.resource, uuid: c.uuid, op: c.op }, 'change');
        break;
      }
      case 'request':
        void this.requests.answer(ev.request);
        return;
      case 'connected':
        // With several servers, which one the agent is on is an operator's first question after a failover.
        this.feedServer = ev.server;
        this.log.info({ server: ev.server, since: ev.since }, 'following the change feed');
        return;
      case 'error':
        this.feedServer = null;
        this.log.warn({ err: errText(ev.error) }, 'change feed interrupted; resuming');
        return;
    }
    this.kick();
  }

  // ---------------------------------------------------------------- reconciliation

  /** Ask for a reconciliation pass; passes never overlap and coalesce while one runs. */
  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.reconcile()
      .catch((err) => this.log.error({ err: errText(err) }, 'reconciliation crashed'))
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.kick();
        }
      });
  }

  private async reconcile(): Promise<void> {
    const view = this.view;
    if (!view) return;
    if (this.dpid === null) {
      this.reports.whileUnidentified(view, null);
      return;
    }
    const dp = datapathByDpid(view, this.dpid);
    if (!dp) {
      this.datapathUuid = null;
      await this.noDatapath(view);
      return;
    }
    if (this.datapathUuid !== dp.uuid) {
      this.log.info(
        { datapath: dp.uuid, dpid: formatDpid(this.dpid), nodeId: dp.node_id },
        'datapath identified by its dpid',
      );
      this.datapathUuid = dp.uuid;
    }
    if (this.phase === 'waiting-for-datapath' || this.phase === 'starting') this.phase = 'waiting-for-switch';

    const local = this.hostPorts.context(dp.uuid, this.dpid, tunnelAddress(view, dp));
    const keys = [...this.pendingKeys];
    this.pendingKeys.clear();
    const trace = this.spans.start();
    const t0 = performance.now();
    const res = this.compiler.update(view, local, keys);
    trace.computeDone();
    this.startup.mark('computed');
    // Bad model data costs its owner the flows it would have made; say which and why.
    if (res.errors.length > 0)
      this.log.warn(
        { errors: res.errors.map((e) => `${e.owner}: ${e.error.message}`) },
        'model data skipped (its flows are missing)',
      );
    this.bound = [...this.compiler.currentBindings().values()];
    this.reports.bindings(view, dp.uuid, this.bound, local.ports);
    this.noteUplinks(uplinkProblems(view, local, this.compiler.currentBindings(), this.compiler.presentNetworks()));

    const link = this.link;
    if (!link) {
      // The delta is lost with no switch to send it to: the next connection diffs everything.
      this.fullDiff = true;
      // Before the first connection (a listening agent's restart: ovs-vswitchd retries once a second) the wait is free.
      if (this.switchConnections === 0) keyFlows(this.compiler.flows());
      if (this.phase === 'running') this.phase = 'waiting-for-switch';
      this.reportStatus(dp.uuid);
      return;
    }
    try {
      if (this.installed === null) {
        const early = this.dumping?.link === link ? this.dumping.flows : null;
        this.dumping = null;
        // The dump is in flight (a dialed switch connects before the compute ends): key the desired side now, while
        // ovs-vswitchd assembles its reply, so that after it only the dump is keyed.
        keyFlows(this.compiler.flows());
        this.startup.mark('desired_keyed');
        this.installed = await (early ?? link.dumpFlows());
        this.startup.mark('dumped');
        keyFlows(this.installed);
        this.startup.mark('dump_keyed');
        this.fullDiff = true;
        this.log.info({ flows: this.installed.length }, 'read installed flows from the switch');
      }
      const desired = this.compiler.flows();
      // Flow stats come back in the codec's canonical form: a desired flow that does not read the same as built is
      // compared again in that form (diffFlows makes it only for those).
      const mods: FlowMod[] = this.fullDiff ? diffFlows(this.installed, desired, normalizeFlow) : res.mods;
      this.startup.mark('diffed');
      // Meters change only with flows that name one (a port's DHCP punt): scan everything only then.
      const wanted = this.fullDiff || mods.some((m) => metersOf(m.flow).size > 0) ? this.meters.wanted(desired) : null;
      if (wanted) await this.meters.install(link, wanted);
      trace.metersDone();
      if (mods.length > 0) {
        await link.sendFlowMods(mods, {
          bundle: true,
          onWritten: () => {
            trace.writeDone();
            this.startup.mark('flow_mods_written');
          },
        });
        this.counters.flowModsSent += mods.length;
      }
      this.endSpan(trace, mods, desired.length, res.recomputed.length);
      if (wanted) await this.meters.removeUnused(link, wanted);
      this.installed = desired;
      const active = this.announcer.announce(link, view, local, this.compiler.currentBindings());
      this.reports.translations(view, dp.uuid, active);
      this.snatUsage.track(snatZones(view, active), link);
      this.fullDiff = false;
      this.counters.syncs++;
      this.deps.observer?.syncDuration((performance.now() - t0) / 1000);
      if (this.link === link) {
        this.flowsInSync = true;
        this.phase = 'running';
        const started = this.startup.finish({ installed_flows: this.installed.length, flow_mods: mods.length });
        if (started) this.log.info(started, 'in sync since process start');
        this.startMetadata();
        if (this.lastError?.startsWith('flow sync failed')) this.lastError = null;
      }
    } catch (err) {
      this.installed = null;
      this.fullDiff = true;
      this.flowsInSync = false;
      this.setError(`flow sync failed: ${errText(err)}`);
      this.log.error({ err: errText(err) }, 'flow sync failed; will re-read the switch and retry');
      this.scheduleRetry(1000);
    }
    this.reportStatus(dp.uuid);
  }

  /**
   * The pass's span: one line, `flows reconciled` at info when flow-mods went out (with their counts), else at
   * debug (our own reports' echoes make many empty passes); its stages go to the metrics.
   */
  private endSpan(trace: PassTrace, mods: readonly FlowMod[], desired: number, recomputed: number): void {
    const span = trace.finish(mods.length, this.fullDiff);
    if (span.changes === 0 && mods.length === 0) return;
    this.deps.observer?.changeSpan(span);
    if (mods.length > 0) this.log.info({ ...span, ...countCommands(mods), desired, recomputed }, 'flows reconciled');
    else if (this.log.isLevelEnabled('debug'))
      this.log.debug({ ...span, recomputed }, 'feed changes applied; no flow to change');
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, ms);
    this.retryTimer.unref();
  }

  /** No datapath in the model has our dpid: register it (--register), or wait for one, saying so. */
  private async noDatapath(view: ModelView): Promise<void> {
    if (this.cfg.register) return this.registration.register(this.dpid!);
    this.phase = 'waiting-for-datapath';
    this.registration.noteWaiting(this.dpid!);
    this.reports.whileUnidentified(view, this.dpid);
  }

  // ---------------------------------------------------------------- reports

  private reportStatus(dpUuid: string): void {
    if (!this.view || this.dpid === null) return;
    const health = { switchConnected: this.link !== null, flowsInSync: this.flowsInSync, lastError: this.lastError };
    this.reports.datapathStatus(this.view, dpUuid, this.dpid, health);
  }

  /** Uplink problems are the datapath's last_error (and a warning) while they last; resolved, they clear it. */
  private noteUplinks(problems: string[]): void {
    const msg = problems.length > 0 ? problems.join('; ') : null;
    if (msg === this.uplinkError) return;
    const previous = this.uplinkError;
    this.uplinkError = msg;
    if (msg) {
      this.log.warn({ problems }, 'uplink problems: physical networks cannot leave this host as configured');
      this.lastError = msg;
    } else {
      this.log.info('uplink problems resolved');
      if (this.lastError === previous) this.lastError = null;
    }
  }

  private setError(msg: string): void {
    this.lastError = msg;
    if (this.datapathUuid && this.dpid !== null) this.reportStatus(this.datapathUuid);
  }
}

function countResources(resources: Record<string, unknown[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(resources)) out[k] = v.length;
  return out;
}

function countCommands(mods: readonly { command: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of mods) out[m.command] = (out[m.command] ?? 0) + 1;
  return out;
}

/** The snat translations among `active` (translations served here), with their conntrack zones. */
function snatZones(view: ModelView, active: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const uuid of active) {
    const t = view.translations.get(uuid);
    if (t?.mode === 'snat' && typeof t.ct_zone === 'number') out.set(uuid, t.ct_zone);
  }
  return out;
}
