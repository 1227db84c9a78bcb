// The network-namespace lab: hosts (netns + private OVS), an underlay, VMs on veths, commands/processes inside them, teardown.
// This file is the Lab facade and its lifecycle; each job lives in its own file beside it and takes the lab's context.
// Lab tooling may use ip/ovs-vsctl/ovs-ofctl/tcpdump; the product never does.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CaptureArgs, type CaptureOptions, type CaptureResult, capture } from './capture.js';
import { type CleanupReport, cleanupLeftovers } from './cleanup.js';
import { LabContext } from './context.js';
import { dhcp, type DhcpLease, type DhcpOptions } from './dhcp-client.js';
import { diagnostics, trace } from './diagnostics.js';
import { LabError, LabExistsError, LabInputError, LabNotFoundError } from './errors.js';
import type { ExecOptions, ExecResult } from './exec.js';
import {
  addExternal,
  addSegment,
  addUplink,
  attachUplink,
  detachUplink,
  removeExternal,
  SEGMENT_BRIDGE,
  segmentOvs,
  setUplinkLink,
} from './external.js';
import { LabExternal, LabHost, LabInternet, LabVm } from './handles.js';
import { addHost, addUnderlay, addUnderlayAddress } from './hosts.js';
import { addInternet, INET_HTTP_PORT, INET_HTTP_PROCESS, type InternetOptions } from './internet.js';
import { type OvsInstance, ovsAlive, stopOvs } from './ovs-instance.js';
import { refreshPlainFlows, syncPlainFlows } from './plain.js';
import { type ForwardOptions, forward } from './port-forward.js';
import { type PingOptions, type PingResult, ping, waitPing } from './probes.js';
import {
  isRunning,
  type LabProcess,
  processHandles,
  type SpawnOptions,
  spawnProcess,
  stopProcess,
  stopProcesses,
} from './processes.js';
import {
  type ExternalState,
  type HostState,
  type InternetState,
  type LabState,
  labDir,
  type ProcState,
  readState,
  type SegmentState,
  type UplinkState,
  type VmState,
} from './state.js';
import {
  checkCidr,
  checkEncap,
  checkIfName,
  checkPrefix,
  DEFAULT_BRIDGE,
  DEFAULT_PREFIX,
  DEFAULT_UNDERLAY,
  type Encap,
  type ExternalSpec,
  type HostSpec,
  LAB_SETTING_KEYS,
  type LabMode,
  type LabSettings,
  SEGMENT_NODE,
  type Topology,
  UNDERLAY_NODE,
  type UplinkOptions,
  type VmSpec,
} from './topology.js';
import { addVm, attachVm, detachVm, moveVm, removeVm } from './vms.js';

// What callers (tests, bench, demo, CLI) import from the lab: all of it through this file.
export type {
  CaptureOptions,
  CaptureResult,
  CleanupReport,
  DhcpLease,
  DhcpOptions,
  Encap,
  ExecResult,
  ExternalSpec,
  ForwardOptions,
  HostSpec,
  InternetOptions,
  InternetState,
  LabMode,
  LabProcess,
  PingOptions,
  PingResult,
  SpawnOptions,
  Topology,
  UplinkOptions,
  UplinkState,
  VmSpec,
};
export {
  cleanupLeftovers,
  INET_HTTP_PORT,
  INET_HTTP_PROCESS,
  LabExternal,
  LabHost,
  LabInternet,
  LabVm,
  SEGMENT_BRIDGE,
  SEGMENT_NODE,
};
export { packetLines } from './capture.js';
export { parsePing } from './probes.js';

export interface LabOptions extends LabSettings {
  /** If a lab with this prefix is up: false (default) → LabExistsError; true → take it down first. */
  replace?: boolean;
}

export interface StatusReport
  extends Pick<LabState, 'prefix' | 'dir' | 'underlay' | 'encap' | 'mode' | 'bridge' | 'createdAt'> {
  hosts: (HostState & { ovsdbPid: number | null; vswitchdPid: number | null; dbSock: string })[];
  vms: VmState[];
  procs: (ProcState & { alive: boolean })[];
  segment: SegmentState | null;
  uplinks: UplinkState[];
  externals: ExternalState[];
  internet: InternetState | null;
}

/** The handles lab.addInternet / lab.internet give: the router (an external node) and the internet host. */
export interface LabInternetHandles {
  router: LabExternal;
  inet: LabInternet;
}

/**
 * One lab. Build with `Lab.create()` (empty: underlay only) or `Lab.up(topology)`; reopen from
 * another process with `Lab.open(prefix)`; remove with `down()` (or `Lab.destroy(prefix)` after a crash).
 * Every mutation is written to /tmp/<prefix>/lab.json at once, so a crash leaves a findable lab.
 */
export class Lab {
  private readonly ctx: LabContext;
  private constructor(s: LabState) {
    this.ctx = new LabContext(s);
  }
  private get s(): LabState {
    return this.ctx.state;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Create an empty lab: run dir, state file and the underlay netns `<prefix>-ul` with its Linux bridge. */
  static async create(opts: LabOptions = {}): Promise<Lab> {
    const prefix = checkPrefix(opts.prefix ?? DEFAULT_PREFIX);
    const underlay = opts.underlay ?? DEFAULT_UNDERLAY;
    const { ip: ulNet, prefixLen } = checkCidr(underlay, 'underlay');
    if (prefixLen > 29) throw new LabInputError('underlay', `${underlay} is too small for a lab`);
    const encap = checkEncap(opts.encap ?? 'gre');
    const mode = opts.mode ?? 'plain';
    if (mode !== 'plain' && mode !== 'none')
      throw new LabInputError('mode', `${JSON.stringify(mode)} must be plain or none`);
    const bridge = checkIfName(opts.bridge ?? DEFAULT_BRIDGE, 'bridge');
    if (mode === 'plain' && opts.createBridge === false)
      throw new LabInputError('createBridge', 'the plain setup needs the lab to create the bridge (use mode none)');
    if (existsSync(join(labDir(prefix), 'lab.json'))) {
      if (!opts.replace && Lab.isUp(prefix)) throw new LabExistsError(prefix);
    }
    // Whatever an earlier (crashed) lab of this prefix left goes first, as the OVN lab scripts do.
    await cleanupLeftovers(prefix);
    const dir = labDir(prefix);
    mkdirSync(dir, { recursive: true });
    const lab = new Lab({
      version: 1,
      prefix,
      dir,
      underlay: `${ulNet}/${prefixLen}`,
      encap,
      mode,
      bridge,
      createBridge: opts.createBridge ?? true,
      createdAt: new Date().toISOString(),
      tmpCounter: 0,
      hosts: [],
      vms: [],
      procs: [],
      segment: null,
      uplinks: [],
      externals: [],
      internet: null,
      underlayAddresses: [],
    });
    lab.ctx.save();
    try {
      await addUnderlay(lab.ctx);
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** Create a lab and build a whole topology in it (hosts, then VMs, then the plain flows). Cleans up on failure. */
  static async up(topology: Topology, opts: LabOptions = {}): Promise<Lab> {
    // Options win over the topology's own settings.
    const merged: LabOptions = { ...opts };
    for (const k of LAB_SETTING_KEYS)
      if (topology[k] !== undefined && opts[k] === undefined) Object.assign(merged, { [k]: topology[k] });
    const lab = await Lab.create(merged);
    try {
      // Hosts are independent: starting their OVS daemons side by side halves the wait. settleAll
      // waits for every one even after a failure: down() must not run while another is being built.
      await settleAll(topology.hosts, topology.hosts.length, (h) => lab.addHost(h, { deferFlows: true }));
      // VMs too, a few at a time (each is a dozen short ip/ethtool/ovs-vsctl runs; 2 cores).
      await settleAll(topology.vms, 4, (v) => lab.addVm(v, { deferFlows: true }));
      await syncPlainFlows(lab.ctx);
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** Reopen a lab that is up (possibly created by another process). */
  static open(prefix: string = DEFAULT_PREFIX): Lab {
    return new Lab(readState(checkPrefix(prefix)));
  }

  /** Whether a lab of this prefix has a state file and at least one of its daemons or namespaces alive. */
  static isUp(prefix: string = DEFAULT_PREFIX): boolean {
    let s: LabState;
    try {
      s = readState(checkPrefix(prefix));
    } catch (err) {
      if (err instanceof LabNotFoundError) return false;
      return true; // a corrupt state file still means something is there to clean
    }
    if (existsSync(`/run/netns/${prefix}-${UNDERLAY_NODE}`)) return true;
    return s.hosts.some((h) => Object.keys(ovsAlive(h.dir)).length > 0);
  }

  /** Remove everything of the lab with this prefix, with or without a (readable) state file. */
  static async destroy(prefix: string = DEFAULT_PREFIX): Promise<CleanupReport> {
    checkPrefix(prefix);
    let lab: Lab | undefined;
    try {
      lab = Lab.open(prefix);
    } catch (err) {
      if (!(err instanceof LabError)) throw err;
    }
    return lab ? lab.down() : cleanupLeftovers(prefix);
  }

  /** Stop every process and daemon, delete every namespace, stray link and the run dir. Idempotent. */
  async down(): Promise<CleanupReport> {
    // In parallel: ovs-vswitchd takes ~1.5 s to exit after TERM, and hosts are independent.
    const killed = await stopProcesses(this.ctx, () => true);
    const ovsDirs = [...this.s.hosts.map((h) => h.dir), ...(this.s.segment ? [this.s.segment.dir] : [])];
    await Promise.all(ovsDirs.map((dir) => stopOvs(dir).catch(() => undefined)));
    const report = await cleanupLeftovers(this.s.prefix);
    report.killed.unshift(...killed);
    return report;
  }

  // ---------------------------------------------------------------- accessors

  get prefix(): string {
    return this.s.prefix;
  }
  get dir(): string {
    return this.s.dir;
  }
  get encap(): Encap {
    return this.s.encap;
  }
  get mode(): LabMode {
    return this.s.mode;
  }
  get underlay(): string {
    return this.s.underlay;
  }
  get bridge(): string {
    return this.s.bridge;
  }
  /** Netns of the underlay (Linux bridge `ulbr`, one port `ul-<host>` per host). */
  get underlayNetns(): string {
    return this.ctx.underlayNetns;
  }
  hosts(): LabHost[] {
    return this.s.hosts.map((h) => new LabHost(this, h));
  }
  vms(): LabVm[] {
    return this.s.vms.map((v) => new LabVm(this, v));
  }
  host(name: string): LabHost {
    return new LabHost(this, this.ctx.hostState(name));
  }
  vm(name: string): LabVm {
    return new LabVm(this, this.ctx.vmState(name));
  }
  externals(): LabExternal[] {
    return this.s.externals.map((e) => new LabExternal(this, e));
  }
  external(name: string): LabExternal {
    return new LabExternal(this, this.ctx.externalState(name));
  }
  /** The uplinks of the hosts (state: host and segment port names, attached, cut). */
  uplinks(): UplinkState[] {
    return this.s.uplinks.map((u) => ({ ...u }));
  }
  /** Netns of the provider segment (node name `ext`; switch bridge `seg`), whether made yet or not. */
  get segmentNetns(): string {
    return this.ctx.segmentNetns;
  }
  /** The segment switch's OVS (`vsctl`, `ofctl`, `appctl`); throws if there is no segment yet. */
  segmentOvs(): OvsInstance {
    return segmentOvs(this.ctx);
  }
  /** The netns of a node: a host, a VM, an external node, `ul` (underlay), `ext` (segment) or `root` (undefined: the machine's own namespace). */
  nodeNetns(node: string): string | undefined {
    return this.ctx.nodeNetns(node);
  }

  /** Everything the lab knows, plus which daemons and processes are alive (for `vnet lab status`). */
  status(): StatusReport {
    const s = this.s;
    return {
      prefix: s.prefix,
      dir: s.dir,
      underlay: s.underlay,
      encap: s.encap,
      mode: s.mode,
      bridge: s.bridge,
      createdAt: s.createdAt,
      hosts: s.hosts.map((h) => {
        const alive = ovsAlive(h.dir);
        return {
          ...h,
          ovsdbPid: alive.ovsdb ?? null,
          vswitchdPid: alive.vswitchd ?? null,
          dbSock: join(h.dir, 'db.sock'),
        };
      }),
      vms: s.vms.map((v) => ({ ...v })),
      procs: s.procs.map((p) => ({ ...p, alive: isRunning(p) })),
      segment: s.segment ? { ...s.segment } : null,
      uplinks: s.uplinks.map((u) => ({ ...u })),
      externals: s.externals.map((e) => ({ ...e })),
      internet: s.internet ? { ...s.internet } : null,
    };
  }

  // ---------------------------------------------------------------- hosts and VMs (hosts.ts, vms.ts)

  /** Add a host: its netns on the underlay, a private OVS with br-phy and (unless createBridge: false) the bridge. */
  async addHost(spec: HostSpec, opts: { deferFlows?: boolean } = {}): Promise<LabHost> {
    return new LabHost(this, await addHost(this.ctx, spec, opts));
  }

  /**
   * An address of the underlay namespace itself (node `ul`): a machine on the underlay that is no hypervisor, e.g.
   * one of several `vnet server`s that every host reaches over the underlay.
   */
  addUnderlayAddress(ip: string): Promise<void> {
    return addUnderlayAddress(this.ctx, ip);
  }

  /** Add a VM: its netns with eth0 on a veth whose other end is a port of its host's bridge. */
  async addVm(spec: VmSpec, opts: { deferFlows?: boolean } = {}): Promise<LabVm> {
    return new LabVm(this, await addVm(this.ctx, spec, opts));
  }

  /** (Re)attach a VM's host port to a bridge, optionally changing bridge / iface-id. */
  attachVm(name: string, opts: { bridge?: string; ifaceId?: string | null } = {}): Promise<void> {
    return attachVm(this.ctx, name, opts);
  }

  /** Remove a VM's port from its bridge (the veth and the VM stay; the VM is cut off). */
  detachVm(name: string): Promise<void> {
    return detachVm(this.ctx, name);
  }

  /** Move a VM to another host (live-migration stand-in), keeping port name, MAC, IP, MTU and gateway. */
  moveVm(name: string, toHost: string, opts: { port?: string; ifaceId?: string | null } = {}): Promise<void> {
    return moveVm(this.ctx, name, toHost, opts);
  }

  /** Delete a VM: its processes, port, veth and netns. */
  removeVm(name: string): Promise<void> {
    return removeVm(this.ctx, name);
  }

  // ---------------------------------------------------------------- the external side (external.ts)

  /**
   * The provider segment: netns `<prefix>-ext` (node `ext`) with a VLAN-aware switch, the OVS bridge `seg`
   * on its own ovsdb-server/ovs-vswitchd (the kernel has no VLAN-filtering Linux bridge).
   * Made on first use by addUplink/addExternal too; calling it again returns the same segment.
   */
  async addSegment(): Promise<SegmentState> {
    return { ...(await addSegment(this.ctx)) };
  }

  /**
   * A host's uplink into the segment: host end `port` (default `ext0`) on the host's bridge, segment
   * end `up-<host>` a trunk (VLANs 2-4094 tagged, untagged = VLAN 1, the flat network).
   */
  async addUplink(host: string, opts: UplinkOptions = {}): Promise<UplinkState> {
    return { ...(await addUplink(this.ctx, host, opts)) };
  }

  /** Add a host's uplink port to its bridge (the default bridge, or `bridge`), e.g. once an agent made it. */
  attachUplink(host: string, opts: { bridge?: string } = {}): Promise<void> {
    return attachUplink(this.ctx, host, opts);
  }

  /** Remove a host's uplink port from its bridge (the veth stays). */
  detachUplink(host: string): Promise<void> {
    return detachUplink(this.ctx, host);
  }

  /** Cut a host's uplink (its segment end down: the host end loses carrier), for failover tests. */
  cutUplink(host: string): Promise<void> {
    return setUplinkLink(this.ctx, host, false);
  }

  /** Restore a cut uplink. */
  restoreUplink(host: string): Promise<void> {
    return setUplinkLink(this.ctx, host, true);
  }

  /** An external node: netns `<prefix>-<name>`, eth0 an access port `ex-<name>` of the segment, in `vlan` or flat. */
  async addExternal(spec: ExternalSpec): Promise<LabExternal> {
    return new LabExternal(this, await addExternal(this.ctx, spec));
  }

  /**
   * The "internet" beyond the segment: an upstream router, i.e. an external node (default `rtr`,
   * 192.168.10.1/24, VLAN 10; `vlan: null` = flat) with IP forwarding on and no NAT, and behind it on a
   * veth the internet host (default node `inet`, netns `<prefix>-inet`): router eth1 `.1`, host eth0 `.10`
   * of `subnet` (default 198.51.100.0/24), the host's default route via the router. The host runs an HTTP
   * server on port 80 (process `http`) answering every GET with the client address it sees, one line;
   * `iperf3` is there to start on demand (`lab.spawn('inet', 'iperf3', ['iperf3', '-s'])`). One per lab.
   */
  async addInternet(opts: InternetOptions = {}): Promise<LabInternetHandles> {
    const { router, inet } = await addInternet(this.ctx, opts);
    return { router: new LabExternal(this, router), inet: new LabInternet(this, inet) };
  }

  /** The router and internet host of lab.addInternet, or null if there are none. */
  internet(): LabInternetHandles | null {
    const i = this.s.internet;
    if (!i) return null;
    return { router: this.external(i.router), inet: new LabInternet(this, i) };
  }

  /** Delete an external node: its processes, veth and netns. */
  removeExternal(name: string): Promise<void> {
    return removeExternal(this.ctx, name);
  }

  // ---------------------------------------------------------------- commands and processes (processes.ts)

  /** Run a command in a node's namespace (host, VM, external node, `ul`, `ext`, `root`); never throws for a non-zero exit. */
  exec(node: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.ctx.exec(node, cmd, opts);
  }

  /** Run a command in a node's namespace and return stdout; throws LabCommandError on a non-zero exit. */
  run(node: string, cmd: string[], opts: ExecOptions = {}): Promise<string> {
    return this.ctx.run(node, cmd, opts);
  }

  /**
   * Start a long-running process in a node's namespace (e.g. `vnet agent` in a host), detached, with
   * stdout+stderr in `<run dir>/<node>/<name>.log`. It is stopped by `stop()` or `down()`, and found by
   * cleanup after a crash (its environment carries VNET_LAB_DIR=/tmp/<prefix>).
   */
  spawn(node: string, name: string, cmd: string[], opts: SpawnOptions = {}): Promise<LabProcess> {
    return spawnProcess(this.ctx, node, name, cmd, opts);
  }

  /** The lab processes known by state (e.g. to find the agent of a host from another process). */
  processes(): LabProcess[] {
    return processHandles(this.ctx);
  }

  /** Stop one spawned process by node and name. */
  stopProcess(node: string, name: string): Promise<void> {
    return stopProcess(this.ctx, node, name);
  }

  /**
   * Make a TCP port of one namespace reachable from another (port-forward.ts). E.g. agents in hosts
   * reach a server in the root namespace at their own 127.0.0.1:9090. Returns the two forwarder processes.
   */
  forward(opts: ForwardOptions): Promise<LabProcess[]> {
    return forward(this.ctx, opts);
  }

  // ---------------------------------------------------------------- checks (probes.ts, dhcp-client.ts, capture.ts, diagnostics.ts)

  /** `ping` from a VM (or any node): success means every request was answered; RTT is the average. */
  ping(node: string, dst: string, opts: PingOptions = {}): Promise<PingResult> {
    return ping(this.ctx, node, dst, opts);
  }

  /** Ping until the first reply or `timeoutMs` (default 20 s). */
  waitPing(node: string, dst: string, opts: { timeoutMs?: number } = {}): Promise<PingResult> {
    return waitPing(this.ctx, node, dst, opts);
  }

  /** Run a real DHCP client (busybox udhcpc) on a VM's eth0; with `apply` (default) the lease is configured. */
  dhcp(vm: string, opts: DhcpOptions = {}): Promise<DhcpLease> {
    return dhcp(this.ctx, vm, opts);
  }

  /**
   * Count packets matching a tcpdump `filter` on `iface` in `node`'s namespace while `action` runs,
   * e.g. `capture('ul', 'ul-h1', 'ip proto 47', () => vm.ping(...))` proves the ping went over GRE.
   */
  capture<T>(...args: CaptureArgs<T>): Promise<CaptureResult<T>> {
    return capture(this.ctx, ...args);
  }

  /** Text for failure reports: per host the bridges, flows, tunnel neighbours/routes and log tails; per VM addresses and neighbours. */
  diagnostics(): Promise<string> {
    return diagnostics(this.ctx);
  }

  /** `ovs-appctl ofproto/trace` on a host's bridge (flow in ovs-ofctl syntax), for failure reports. */
  trace(host: string, flow: string, bridge?: string): Promise<string> {
    return trace(this.ctx, host, flow, bridge);
  }

  // ---------------------------------------------------------------- plain dataplane (plain.ts)

  /** Switch the plain setup's encapsulation (both tunnel ports exist; only the flows change). */
  async setEncap(encap: Encap): Promise<void> {
    this.s.encap = checkEncap(encap);
    this.ctx.save();
    await syncPlainFlows(this.ctx);
  }

  /** Recompute and install the plain flows on every host (replace-flows: only differences are changed). */
  refreshPlainFlows(): Promise<void> {
    return refreshPlainFlows(this.ctx);
  }
}

/**
 * Run `f` over `items`, at most `limit` at a time, and wait for ALL of them (a failure must not let
 * the caller tear down while others are still building); then throw the first failure.
 */
async function settleAll<T>(items: T[], limit: number, f: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await f(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError) throw firstError.err;
}
