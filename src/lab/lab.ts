// The network-namespace lab: hosts (netns + private OVS), an underlay, VMs on veths, commands/processes inside them, teardown.
// Lab tooling may use ip/ovs-vsctl/ovs-ofctl/tcpdump; the product never does.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CleanupReport, cleanupLeftovers, isLabProcess, procStartTime, terminate } from './cleanup.js';
import {
  LabError,
  LabExistsError,
  LabInputError,
  LabNotFoundError,
  LabSafetyError,
  LabTimeoutError,
  LabUnknownNodeError,
} from './errors.js';
import { type ExecOptions, type ExecResult, execIn, LAB_MARKER_ENV, runIn, spawnDetached } from './exec.js';
import { attachOvs, type OvsInstance, ovsAlive, startOvs, stopOvs } from './ovs-instance.js';
import { PLAIN_TUNNEL_KEY, plainFlows, TUNNEL_PORTS } from './plain.js';
import { type HostState, type LabState, labDir, type ProcState, readState, type VmState, writeState } from './state.js';
import {
  checkCidr,
  checkEncap,
  checkIfName,
  checkName,
  checkPrefix,
  DEFAULT_BRIDGE,
  DEFAULT_PREFIX,
  DEFAULT_UNDERLAY,
  DEFAULT_VM_MTU,
  defaultMac,
  type Encap,
  type HostSpec,
  inSubnet,
  type LabMode,
  nthAddress,
  ROOT_NODE,
  type Topology,
  UNDERLAY_NODE,
  validateVmSpec,
  type VmSpec,
} from './topology.js';

export type { CleanupReport, Encap, ExecResult, HostSpec, LabMode, Topology, VmSpec };
export { cleanupLeftovers };

export interface LabOptions {
  /** Name prefix of every namespace, temporary veth and the run dir /tmp/<prefix>; default `vnl`. */
  prefix?: string;
  /** Underlay subnet; default 192.168.100.0/24 (exists only inside the lab's namespaces). */
  underlay?: string;
  /** Encapsulation of the plain setup; default gre. */
  encap?: Encap;
  /** `plain` (default): the lab programs br0 with hand-written flows; `none`: an agent will. */
  mode?: LabMode;
  /** Integration bridge name; default br0. */
  bridge?: string;
  /** Default for hosts: create the integration bridge (default true). */
  createBridge?: boolean;
  /** If a lab with this prefix is up: false (default) → LabExistsError; true → take it down first. */
  replace?: boolean;
}

export interface PingOptions {
  /** Echo requests to send (default 1). */
  count?: number;
  /** Seconds between requests (default 0.2). */
  intervalS?: number;
  /** Seconds to wait for each reply (default 2). */
  timeoutS?: number;
}

export interface PingResult {
  /** Every request got a reply. */
  ok: boolean;
  sent: number;
  received: number;
  /** Average round-trip time in ms (undefined when nothing came back). */
  rttMs?: number;
  /** Wall time until success (waitPing) or of the ping run. */
  elapsedMs: number;
  output: string;
}

export interface CaptureOptions {
  /** Wait this long after the action for late packets (default 300 ms). */
  settleMs?: number;
  /** Give up starting tcpdump after this long (default 5000 ms). */
  startTimeoutMs?: number;
}

export interface CaptureResult<T> {
  /** Packets matching the filter seen on the interface during the action. */
  count: number;
  /** tcpdump's one-line summaries (-n -e), for failure reports. */
  lines: string[];
  result: T;
}

export interface DhcpOptions {
  /** DISCOVERs to send before giving up (default 5, one per second). */
  tries?: number;
  /** Configure eth0 from the lease (address, default route, MTU); default true. */
  apply?: boolean;
}

/** What a DHCP client in a VM got (busybox udhcpc's variables), or why not. */
export interface DhcpLease {
  ok: boolean;
  /** Leased address, prefix length and the rest as the server sent them. */
  ip?: string;
  prefixLen?: number;
  router?: string;
  dns?: string[];
  domain?: string;
  mtu?: number;
  leaseS?: number;
  serverId?: string;
  /** Option 121 as udhcpc renders it ("dest/len gw ..."). */
  staticRoutes?: string;
  /** Every variable udhcpc passed to its script. */
  env: Record<string, string>;
  output: string;
  elapsedMs: number;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A long-running process the lab started (agent, server, forwarder); stopped by stop() or lab.down(). */
export interface LabProcess {
  readonly node: string;
  readonly name: string;
  readonly pid: number;
  /** stdout+stderr of the process. */
  readonly log: string;
  alive(): boolean;
  /** Last `lines` lines of the log. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface ForwardOptions {
  /** Where the new listener lives: a node (host, VM, `ul`, `root`) and a TCP port on its 127.0.0.1. */
  from: { node: string; port: number; host?: string };
  /** What it reaches: a TCP port in another node's namespace. */
  to: { node: string; port: number; host?: string };
}

export interface StatusReport {
  prefix: string;
  dir: string;
  underlay: string;
  encap: Encap;
  mode: LabMode;
  bridge: string;
  createdAt: string;
  hosts: (HostState & { ovsdbPid: number | null; vswitchdPid: number | null; dbSock: string })[];
  vms: VmState[];
  procs: (ProcState & { alive: boolean })[];
}

const TUNNEL_KEY = PLAIN_TUNNEL_KEY;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Parse `ping` output: transmitted/received counts and the average RTT. */
export function parsePing(output: string): { sent: number; received: number; rttMs?: number } {
  const c = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(output);
  const rtt = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(output);
  const out: { sent: number; received: number; rttMs?: number } = {
    sent: c ? Number(c[1]) : 0,
    received: c ? Number(c[2]) : 0,
  };
  if (rtt) out.rttMs = Number(rtt[1]);
  return out;
}

/** The tsx loader URL when running from TypeScript sources (tests, dev), else undefined (compiled dist/). */
function tsxImport(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [];
  return ['--import', import.meta.resolve('tsx')];
}

/** A lab host: a netns with its own ovsdb-server + ovs-vswitchd, br-phy on the underlay, and (usually) br0. */
export class LabHost {
  readonly ovs: OvsInstance;
  constructor(
    private readonly lab: Lab,
    readonly state: HostState,
  ) {
    this.ovs = attachOvs({ dir: state.dir, netns: state.netns });
  }
  get name(): string {
    return this.state.name;
  }
  get netns(): string {
    return this.state.netns;
  }
  /** Run dir (OVS sockets and logs, logs of processes spawned here). */
  get dir(): string {
    return this.state.dir;
  }
  get underlayIp(): string {
    return this.state.underlayIp;
  }
  get bridge(): string {
    return this.state.bridge;
  }
  /** "0x%016x" set by the lab on the bridge it created, else null. */
  get dpid(): string | null {
    return this.state.dpid;
  }
  /** ovsdb-server's unix socket path. */
  get dbSock(): string {
    return this.ovs.dbSock;
  }
  /** What an agent's --ovsdb option takes: `unix:<dbSock>`. */
  get ovsdbRemote(): string {
    return `unix:${this.ovs.dbSock}`;
  }
  vsctl(...args: string[]): Promise<string> {
    return this.ovs.vsctl(...args);
  }
  ofctl(...args: string[]): Promise<string> {
    return this.ovs.ofctl(...args);
  }
  appctl(...args: string[]): Promise<string> {
    return this.ovs.appctl(...args);
  }
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.lab.exec(this.name, cmd, opts);
  }
  run(cmd: string[], opts?: ExecOptions): Promise<string> {
    return this.lab.run(this.name, cmd, opts);
  }
  spawn(name: string, cmd: string[], opts?: SpawnOptions): Promise<LabProcess> {
    return this.lab.spawn(this.name, name, cmd, opts);
  }
}

/** A lab VM: a netns whose eth0 is a veth to a port of its host's bridge. */
export class LabVm {
  constructor(
    private readonly lab: Lab,
    readonly state: VmState,
  ) {}
  get name(): string {
    return this.state.name;
  }
  get netns(): string {
    return this.state.netns;
  }
  get host(): string {
    return this.state.host;
  }
  get mac(): string {
    return this.state.mac;
  }
  /** `a.b.c.d/len` or null. */
  get cidr(): string | null {
    return this.state.ip;
  }
  /** The address without the length, or null. */
  get ip(): string | null {
    return this.state.ip ? this.state.ip.split('/')[0]! : null;
  }
  get port(): string {
    return this.state.port;
  }
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.lab.exec(this.name, cmd, opts);
  }
  run(cmd: string[], opts?: ExecOptions): Promise<string> {
    return this.lab.run(this.name, cmd, opts);
  }
  ping(dst: string, opts?: PingOptions): Promise<PingResult> {
    return this.lab.ping(this.name, dst, opts);
  }
  spawn(name: string, cmd: string[], opts?: SpawnOptions): Promise<LabProcess> {
    return this.lab.spawn(this.name, name, cmd, opts);
  }
}

/**
 * One lab. Build with `Lab.create()` (empty: underlay only) or `Lab.up(topology)`; reopen from
 * another process with `Lab.open(prefix)`; remove with `down()` (or `Lab.destroy(prefix)` after a crash).
 * Every mutation is written to /tmp/<prefix>/lab.json at once, so a crash leaves a findable lab.
 */
export class Lab {
  private constructor(private readonly s: LabState) {}

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
    const s: LabState = {
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
    };
    writeState(s);
    const lab = new Lab(s);
    try {
      const ns = lab.underlayNetns;
      await lab.addNetns(ns);
      await runIn(undefined, ['ip', '-n', ns, 'link', 'add', 'ulbr', 'type', 'bridge']);
      await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'ulbr', 'up']);
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** Create a lab and build a whole topology in it (hosts, then VMs, then the plain flows). Cleans up on failure. */
  static async up(topology: Topology, opts: LabOptions = {}): Promise<Lab> {
    const merged: LabOptions = { ...opts };
    if (topology.prefix !== undefined && opts.prefix === undefined) merged.prefix = topology.prefix;
    if (topology.underlay !== undefined && opts.underlay === undefined) merged.underlay = topology.underlay;
    if (topology.encap !== undefined && opts.encap === undefined) merged.encap = topology.encap;
    if (topology.mode !== undefined && opts.mode === undefined) merged.mode = topology.mode;
    if (topology.bridge !== undefined && opts.bridge === undefined) merged.bridge = topology.bridge;
    if (topology.createBridge !== undefined && opts.createBridge === undefined)
      merged.createBridge = topology.createBridge;
    const lab = await Lab.create(merged);
    try {
      // Hosts are independent: starting their OVS daemons side by side halves the wait. settleAll
      // waits for every one even after a failure: down() must not run while another is being built.
      await settleAll(topology.hosts, topology.hosts.length, (h) => lab.addHost(h, { deferFlows: true }));
      // VMs too, a few at a time (each is a dozen short ip/ethtool/ovs-vsctl runs; 2 cores).
      await settleAll(topology.vms, 4, (v) => lab.addVm(v, { deferFlows: true }));
      if (lab.s.mode === 'plain') await lab.refreshPlainFlows();
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
    const killed = (await Promise.all(this.s.procs.map((p) => this.stopProc(p)))).flat();
    this.s.procs = [];
    await Promise.all(this.s.hosts.map((h) => stopOvs(h.dir).catch(() => undefined)));
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
    return `${this.s.prefix}-${UNDERLAY_NODE}`;
  }
  hosts(): LabHost[] {
    return this.s.hosts.map((h) => new LabHost(this, h));
  }
  vms(): LabVm[] {
    return this.s.vms.map((v) => new LabVm(this, v));
  }
  host(name: string): LabHost {
    const h = this.s.hosts.find((x) => x.name === name);
    if (!h)
      throw new LabUnknownNodeError(
        'host',
        name,
        this.s.hosts.map((x) => x.name),
      );
    return new LabHost(this, h);
  }
  vm(name: string): LabVm {
    const v = this.s.vms.find((x) => x.name === name);
    if (!v)
      throw new LabUnknownNodeError(
        'VM',
        name,
        this.s.vms.map((x) => x.name),
      );
    return new LabVm(this, v);
  }
  /** The netns of a node: a host, a VM, `ul` (underlay) or `root` (undefined: the machine's own namespace). */
  nodeNetns(node: string): string | undefined {
    if (node === ROOT_NODE) return undefined;
    if (node === UNDERLAY_NODE) return `${this.s.prefix}-${UNDERLAY_NODE}`;
    if (this.s.hosts.some((h) => h.name === node) || this.s.vms.some((v) => v.name === node))
      return `${this.s.prefix}-${node}`;
    throw new LabUnknownNodeError('host or VM', node, [
      ...this.s.hosts.map((h) => h.name),
      ...this.s.vms.map((v) => v.name),
      UNDERLAY_NODE,
      ROOT_NODE,
    ]);
  }

  /** Everything the lab knows, plus which daemons and processes are alive (for `vnet lab status`). */
  status(): StatusReport {
    return {
      prefix: this.s.prefix,
      dir: this.s.dir,
      underlay: this.s.underlay,
      encap: this.s.encap,
      mode: this.s.mode,
      bridge: this.s.bridge,
      createdAt: this.s.createdAt,
      hosts: this.s.hosts.map((h) => {
        const alive = ovsAlive(h.dir);
        return {
          ...h,
          ovsdbPid: alive.ovsdb ?? null,
          vswitchdPid: alive.vswitchd ?? null,
          dbSock: join(h.dir, 'db.sock'),
        };
      }),
      vms: this.s.vms.map((v) => ({ ...v })),
      procs: this.s.procs.map((p) => ({ ...p, alive: procStartTime(p.pid) === p.startTime })),
    };
  }

  // ---------------------------------------------------------------- hosts

  /**
   * Add a host: netns `<prefix>-<name>` (lo up, IPv6 off), an underlay veth into `<prefix>-ul`,
   * private ovsdb-server + ovs-vswitchd (userspace datapath), `br-phy` holding the underlay veth with
   * the underlay IP on its internal port, and the integration bridge (netdev, fail_mode=secure) unless
   * `createBridge: false`.
   */
  async addHost(spec: HostSpec, opts: { deferFlows?: boolean } = {}): Promise<LabHost> {
    const name = checkName(spec.name, 'host.name');
    this.assertFreeName(name, 'host.name');
    const index = Math.max(0, ...this.s.hosts.map((h) => h.index)) + 1;
    const underlayIp = spec.underlayIp ?? nthAddress(this.s.underlay, index);
    if (!inSubnet(underlayIp, this.s.underlay))
      throw new LabInputError('host.underlayIp', `${underlayIp} is not in the underlay ${this.s.underlay}`);
    if (this.s.hosts.some((h) => h.underlayIp === underlayIp))
      throw new LabInputError('host.underlayIp', `${underlayIp} is already used by another host`);
    const createBridge = spec.createBridge ?? this.s.createBridge;
    if (this.s.mode === 'plain' && !createBridge)
      throw new LabInputError('host.createBridge', 'the plain setup needs the lab to create the bridge');
    const netns = `${this.s.prefix}-${name}`;
    const ulPort = `ul-${name}`;
    const st: HostState = {
      name,
      index,
      netns,
      dir: join(this.s.dir, name),
      underlayIp,
      underlayPrefixLen: Number(this.s.underlay.split('/')[1]),
      ulPort,
      bridge: this.s.bridge,
      bridgeCreated: createBridge,
      dpid: createBridge ? `0x${index.toString(16).padStart(16, '0')}` : null,
    };
    // Recorded before anything is made, so down() finds a half-built host too.
    this.s.hosts.push(st);
    this.save();
    await this.addNetns(netns);
    const ul = this.underlayNetns;
    const [a, b] = this.tmpNames();
    await runIn(undefined, ['ip', '-n', ul, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', netns]);
    await runIn(undefined, ['ip', '-n', ul, 'link', 'set', a, 'name', ulPort]);
    await runIn(undefined, ['ip', '-n', ul, 'link', 'set', ulPort, 'master', 'ulbr', 'up']);
    await runIn(undefined, ['ip', '-n', netns, 'link', 'set', b, 'name', 'ul0']);
    await runIn(undefined, ['ip', '-n', netns, 'link', 'set', 'ul0', 'up']);
    const ovs = await startOvs({ dir: st.dir, netns });
    const vs = [
      '--',
      'set',
      'open_vswitch',
      '.',
      `external_ids:system-id=${netns}`,
      `external_ids:hostname=${netns}`,
      '--',
      'add-br',
      'br-phy',
      '--',
      'set',
      'bridge',
      'br-phy',
      'datapath_type=netdev',
      '--',
      'add-port',
      'br-phy',
      'ul0',
    ];
    if (createBridge)
      vs.push(
        '--',
        'add-br',
        st.bridge,
        '--',
        'set',
        'bridge',
        st.bridge,
        'datapath_type=netdev',
        'fail_mode=secure',
        `other_config:datapath-id=${st.dpid!.slice(2)}`,
        'other_config:disable-in-band=true',
      );
    await ovs.vsctl(...vs);
    // The underlay IP sits on br-phy's internal port: userspace tunnels route and ARP through it.
    await runIn(undefined, [
      'ip',
      '-n',
      netns,
      'addr',
      'add',
      `${underlayIp}/${st.underlayPrefixLen}`,
      'dev',
      'br-phy',
    ]);
    await runIn(undefined, ['ip', '-n', netns, 'link', 'set', 'br-phy', 'up']);
    if (this.s.mode === 'plain') {
      await ovs.vsctl(
        '--',
        'add-port',
        st.bridge,
        TUNNEL_PORTS.gre,
        '--',
        'set',
        'interface',
        TUNNEL_PORTS.gre,
        'type=gre',
        'options:remote_ip=flow',
        'options:key=flow',
        '--',
        'add-port',
        st.bridge,
        TUNNEL_PORTS.vxlan,
        '--',
        'set',
        'interface',
        TUNNEL_PORTS.vxlan,
        'type=vxlan',
        'options:remote_ip=flow',
        'options:key=flow',
      );
      if (!opts.deferFlows) await this.refreshPlainFlows();
    }
    return new LabHost(this, st);
  }

  // ---------------------------------------------------------------- VMs

  /**
   * Add a VM: netns `<prefix>-<name>` (lo up, IPv6 off, fast ARP retries) whose eth0 is one end of a
   * veth; the other end, in the host netns, is renamed to `spec.port` and attached to the bridge
   * (with external_ids:iface-id/attached-mac if `ifaceId` is given). TX checksum offload off on both.
   */
  async addVm(input: VmSpec, opts: { deferFlows?: boolean } = {}): Promise<LabVm> {
    const spec = validateVmSpec(input as unknown as Record<string, unknown>, 'vm');
    this.assertFreeName(spec.name, 'vm.name');
    const host = this.host(spec.host).state;
    const n = this.s.vms.length + 1;
    const st: VmState = {
      name: spec.name,
      netns: `${this.s.prefix}-${spec.name}`,
      host: host.name,
      mac: spec.mac ?? this.freeDefaultMac(n),
      ip: spec.ip ?? null,
      gateway: spec.gateway ?? null,
      mtu: spec.mtu ?? DEFAULT_VM_MTU,
      port: spec.port ?? checkIfName(`if-${spec.name}`, 'vm.port'),
      bridge: spec.bridge ?? host.bridge,
      ifaceId: spec.ifaceId ?? null,
      attached: false,
    };
    if (this.s.vms.some((v) => v.mac === st.mac)) throw new LabInputError('vm.mac', `${st.mac} is used by another VM`);
    this.assertFreePort(host.name, st.port, 'vm.port');
    this.s.vms.push(st);
    this.save();
    await this.addNetns(st.netns);
    await this.plug(st);
    // A bridge the lab did not create (left to the agent) may not exist yet: such VMs are made but
    // not attached unless asked; attachVm() plugs them in once the agent has made the bridge.
    const bridgeMissing = !host.bridgeCreated && st.bridge === host.bridge;
    if (spec.attach ?? !bridgeMissing) await this.attachPort(st);
    if (this.s.mode === 'plain' && !opts.deferFlows) await this.refreshPlainFlows();
    return new LabVm(this, st);
  }

  /** (Re)attach a VM's host port to a bridge, optionally changing bridge / iface-id. */
  async attachVm(name: string, opts: { bridge?: string; ifaceId?: string | null } = {}): Promise<void> {
    const st = this.vm(name).state;
    if (st.attached) await this.detachPort(st);
    if (opts.bridge !== undefined) st.bridge = checkIfName(opts.bridge, 'bridge');
    if (opts.ifaceId !== undefined) st.ifaceId = opts.ifaceId;
    await this.attachPort(st);
    if (this.s.mode === 'plain') await this.refreshPlainFlows();
  }

  /** Remove a VM's port from its bridge (the veth and the VM stay; the VM is cut off). */
  async detachVm(name: string): Promise<void> {
    const st = this.vm(name).state;
    await this.detachPort(st);
    if (this.s.mode === 'plain') await this.refreshPlainFlows();
  }

  /**
   * Move a VM to another host (live-migration stand-in): its veth is removed from the old host and a
   * new one made in the new host with the same port name, MAC, IP, MTU and gateway, then attached.
   */
  async moveVm(name: string, toHost: string, opts: { port?: string; ifaceId?: string | null } = {}): Promise<void> {
    const st = this.vm(name).state;
    const to = this.host(toHost).state;
    const port = opts.port !== undefined ? checkIfName(opts.port, 'port') : st.port;
    if (to.name !== st.host || port !== st.port) this.assertFreePort(to.name, port, 'port');
    if (st.attached) await this.detachPort(st);
    await this.unplug(st);
    st.host = to.name;
    st.port = port;
    if (opts.ifaceId !== undefined) st.ifaceId = opts.ifaceId;
    this.save();
    await this.plug(st);
    await this.attachPort(st);
    if (this.s.mode === 'plain') await this.refreshPlainFlows();
  }

  /** Delete a VM: its port, veth and netns. */
  async removeVm(name: string): Promise<void> {
    const st = this.vm(name).state;
    for (const p of this.s.procs.filter((x) => x.node === name)) await this.stopProc(p);
    this.s.procs = this.s.procs.filter((x) => x.node !== name);
    if (st.attached) await this.detachPort(st).catch(() => undefined);
    await execIn(undefined, ['ip', 'netns', 'del', st.netns]);
    this.s.vms = this.s.vms.filter((v) => v.name !== name);
    this.save();
    if (this.s.mode === 'plain') await this.refreshPlainFlows();
  }

  // ---------------------------------------------------------------- commands and processes

  /** Run a command in a node's namespace (host, VM, `ul`, `root`); never throws for a non-zero exit. */
  exec(node: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
    return execIn(this.nodeNetns(node), cmd, { ...opts, env: this.markedEnv(opts.env) });
  }

  /** Run a command in a node's namespace and return stdout; throws LabCommandError on a non-zero exit. */
  run(node: string, cmd: string[], opts: ExecOptions = {}): Promise<string> {
    if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
    return runIn(this.nodeNetns(node), cmd, { ...opts, env: this.markedEnv(opts.env) });
  }

  /**
   * Start a long-running process in a node's namespace (e.g. `vnet agent` in a host), detached, with
   * stdout+stderr in `<run dir>/<node>/<name>.log`. It is stopped by `stop()` or `down()`, and found by
   * cleanup after a crash (its environment carries VNET_LAB_DIR=/tmp/<prefix>).
   */
  async spawn(node: string, name: string, cmd: string[], opts: SpawnOptions = {}): Promise<LabProcess> {
    const netns = this.nodeNetns(node);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      throw new LabInputError('name', `'${name}' must match [A-Za-z0-9_.-]{1,64}`);
    if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
    const old = this.s.procs.find((p) => p.node === node && p.name === name);
    if (old) {
      if (procStartTime(old.pid) === old.startTime)
        throw new LabInputError('name', `a process '${name}' already runs in ${node} (pid ${old.pid})`);
      this.s.procs = this.s.procs.filter((p) => p !== old);
    }
    const dir = join(this.s.dir, node);
    mkdirSync(dir, { recursive: true });
    const log = join(dir, `${name}.log`);
    writeFileSync(log, '');
    const pid = spawnDetached(netns, cmd, log, this.markedEnv(opts.env), opts.cwd);
    // The start time pins the pid to this process: a recycled pid is never signalled later.
    let startTime = procStartTime(pid);
    for (let i = 0; startTime === undefined && i < 20; i++) {
      await sleep(5);
      startTime = procStartTime(pid);
    }
    const p: ProcState = { node, name, pid, startTime: startTime ?? '', log, cmd };
    writeFileSync(join(dir, `${name}.pid`), `${pid}\n`);
    this.s.procs.push(p);
    this.save();
    return this.procHandle(p);
  }

  /** The lab processes known by state (e.g. to find the agent of a host from another process). */
  processes(): LabProcess[] {
    return this.s.procs.map((p) => this.procHandle(p));
  }

  /** Stop one spawned process by node and name. */
  async stopProcess(node: string, name: string): Promise<void> {
    const p = this.s.procs.find((x) => x.node === node && x.name === name);
    if (!p)
      throw new LabUnknownNodeError(
        'process',
        `${node}/${name}`,
        this.s.procs.map((x) => `${x.node}/${x.name}`),
      );
    await this.stopProc(p);
    this.s.procs = this.s.procs.filter((x) => x !== p);
    this.save();
  }

  /**
   * Make a TCP port of one namespace reachable from another (namespaces share no loopback): a listener
   * on `from.host:from.port` in `from.node` forwards each connection through a unix socket in the run
   * dir to `to.host:to.port` in `to.node`. E.g. agents in hosts reach a server in the root namespace at
   * their own 127.0.0.1:9090. Returns the two forwarder processes (stopped by down()).
   */
  async forward(opts: ForwardOptions): Promise<LabProcess[]> {
    const { from, to } = opts;
    for (const [f, v] of [
      ['from.port', from.port],
      ['to.port', to.port],
    ] as const)
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new LabInputError(f, `${v} is not a TCP port`);
    this.nodeNetns(from.node);
    this.nodeNetns(to.node);
    const id = `fwd-${from.node}-${from.port}-${to.node}-${to.port}`;
    const sock = join(this.s.dir, 'fwd', `${id}.sock`);
    mkdirSync(join(this.s.dir, 'fwd'), { recursive: true });
    const script = fileURLToPath(
      new URL(`./forwarder.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url),
    );
    const node = [process.execPath, ...tsxImport(), script];
    const out = await this.spawn(to.node, `${id}-out`, [
      ...node,
      `unix:${sock}`,
      `tcp:${to.host ?? '127.0.0.1'}:${to.port}`,
    ]);
    await this.waitLog(out, 'listening', 10000);
    const inn = await this.spawn(from.node, `${id}-in`, [
      ...node,
      `tcp:${from.host ?? '127.0.0.1'}:${from.port}`,
      `unix:${sock}`,
    ]);
    await this.waitLog(inn, 'listening', 10000);
    return [out, inn];
  }

  // ---------------------------------------------------------------- checks

  /** `ping` from a VM (or any node): success means every request was answered; RTT is the average. */
  async ping(node: string, dst: string, opts: PingOptions = {}): Promise<PingResult> {
    const count = opts.count ?? 1;
    const t0 = Date.now();
    const r = await this.exec(node, [
      'ping',
      '-n',
      '-c',
      String(count),
      '-i',
      String(opts.intervalS ?? 0.2),
      '-W',
      String(opts.timeoutS ?? 2),
      dst,
    ]);
    const p = parsePing(r.stdout);
    return { ...p, ok: r.ok && p.received === count, elapsedMs: Date.now() - t0, output: r.stdout + r.stderr };
  }

  /** Ping until the first reply or `timeoutMs` (default 20 s): a request every 50 ms, restarted if ping gives up. */
  async waitPing(node: string, dst: string, opts: { timeoutMs?: number } = {}): Promise<PingResult> {
    const timeoutMs = opts.timeoutMs ?? 20000;
    const t0 = Date.now();
    let last: ExecResult | undefined;
    for (;;) {
      const left = Math.ceil((t0 + timeoutMs - Date.now()) / 1000);
      if (left <= 0) break;
      last = await this.exec(node, ['ping', '-n', '-c', '1', '-i', '0.05', '-w', String(left), dst]);
      if (last.ok) {
        const p = parsePing(last.stdout);
        return { ...p, ok: true, elapsedMs: Date.now() - t0, output: last.stdout };
      }
      await sleep(20);
    }
    const p = last ? parsePing(last.stdout) : { sent: 0, received: 0 };
    return { ...p, ok: false, elapsedMs: Date.now() - t0, output: last ? last.stdout + last.stderr : '' };
  }

  /**
   * Run a real DHCP client (busybox udhcpc) on a VM's eth0 until it gets a lease or gives up, with
   * our own script: the default one would rewrite the machine's /etc/resolv.conf. With `apply` (the
   * default) the lease is configured: address, default route via the router, MTU.
   */
  async dhcp(vm: string, opts: DhcpOptions = {}): Promise<DhcpLease> {
    const v = this.vm(vm);
    const dir = join(this.s.dir, vm);
    mkdirSync(dir, { recursive: true });
    const envFile = join(dir, 'dhcp.env');
    const script = join(dir, 'udhcpc.sh');
    const apply = opts.apply !== false;
    writeFileSync(
      script,
      `#!/bin/sh
# vnet lab udhcpc script: record the lease${apply ? ' and configure eth0 from it' : ''}; never touches /etc.
case "$1" in
  deconfig)
    ${apply ? 'ip addr flush dev "$interface"; ip link set "$interface" up' : ':'} ;;
  bound|renew)
    env | grep -E '^(ip|subnet|mask|router|dns|domain|mtu|staticroutes|lease|serverid|broadcast|interface)=' | sort > "${envFile}.tmp"
    mv "${envFile}.tmp" "${envFile}"
    ${
      apply
        ? `[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done`
        : ':'
    } ;;
esac
exit 0
`,
      { mode: 0o755 },
    );
    const t0 = Date.now();
    const tries = opts.tries ?? 5;
    const r = await this.exec(v.name, [
      'busybox',
      'udhcpc',
      '-f',
      '-q',
      '-n',
      '-i',
      'eth0',
      '-t',
      String(tries),
      '-T',
      '1',
      '-A',
      '1',
      '-s',
      script,
      '-O',
      'mtu',
      '-O',
      'staticroutes',
      '-O',
      'domain',
      '-O',
      'dns',
    ]);
    const env: Record<string, string> = {};
    try {
      for (const line of readFileSync(envFile, 'utf8').split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
      }
    } catch {
      /* no lease */
    }
    const lease: DhcpLease = {
      ok: r.ok && env.ip !== undefined,
      env,
      output: r.stdout + r.stderr,
      elapsedMs: Date.now() - t0,
    };
    if (env.ip) lease.ip = env.ip;
    if (env.mask) lease.prefixLen = Number(env.mask);
    if (env.router) lease.router = env.router.split(' ')[0]!;
    if (env.dns) lease.dns = env.dns.split(' ').filter(Boolean);
    if (env.domain) lease.domain = env.domain;
    if (env.mtu) lease.mtu = Number(env.mtu);
    if (env.lease) lease.leaseS = Number(env.lease);
    if (env.serverid) lease.serverId = env.serverid;
    if (env.staticroutes) lease.staticRoutes = env.staticroutes;
    if (lease.ok && apply && lease.ip) {
      v.state.ip = `${lease.ip}/${lease.prefixLen ?? 32}`;
      v.state.gateway = lease.router ?? null;
      if (lease.mtu) v.state.mtu = lease.mtu;
      this.save();
    }
    return lease;
  }

  /**
   * Count packets matching a tcpdump `filter` on `iface` in `node`'s namespace while `action` runs,
   * e.g. `capture('ul', 'ul-h1', 'ip proto 47', () => vm.ping(...))` proves the ping went over GRE.
   */
  async capture<T>(
    node: string,
    iface: string,
    filter: string,
    action: () => Promise<T>,
    opts: CaptureOptions = {},
  ): Promise<CaptureResult<T>> {
    const argv = [
      ...(this.nodeNetns(node) ? ['ip', 'netns', 'exec', this.nodeNetns(node)!] : []),
      'tcpdump',
      '-i',
      iface,
      '-n',
      '-e',
      '-l',
      '--immediate-mode',
      ...(filter ? [filter] : []),
    ];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: this.markedEnv() });
    let out = '';
    let err = '';
    // A missing binary is reported through the exit check below, not as an uncaught 'error' event.
    child.on('error', (e) => {
      err += e.message;
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
    const stopDump = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    };
    try {
      const startBy = Date.now() + (opts.startTimeoutMs ?? 5000);
      while (!err.includes('listening on')) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new LabError('VNET_LAB_CAPTURE_FAILED', `tcpdump on ${node}/${iface} failed: ${err.trim()}`);
        if (Date.now() > startBy)
          throw new LabTimeoutError(`tcpdump on ${node}/${iface} to start`, opts.startTimeoutMs ?? 5000);
        await sleep(10);
      }
      const result = await action();
      await sleep(opts.settleMs ?? 300);
      await stopDump();
      const lines = packetLines(out);
      return { count: lines.length, lines, result };
    } finally {
      await stopDump();
    }
  }

  /** Text for failure reports: per host the bridges, flows, tunnel neighbours/routes and log tails; per VM addresses and neighbours. */
  async diagnostics(): Promise<string> {
    const parts: string[] = [`lab ${this.s.prefix} (${this.s.mode}, encap ${this.s.encap})`];
    const safe = async (what: string, f: () => Promise<string>) => {
      try {
        parts.push(`--- ${what}\n${(await f()).trimEnd()}`);
      } catch (err) {
        parts.push(`--- ${what}: ${(err as Error).message}`);
      }
    };
    for (const h of this.hosts()) {
      await safe(`${h.name}: ovs-vsctl show`, () => h.vsctl('show'));
      for (const br of [h.bridge, 'br-phy']) await safe(`${h.name}: dump-flows ${br}`, () => h.ofctl('dump-flows', br));
      await safe(`${h.name}: tnl/neigh/show`, () => h.appctl('tnl/neigh/show'));
      await safe(`${h.name}: ovs/route/show`, () => h.appctl('ovs/route/show'));
      await safe(`${h.name}: ovs-vswitchd.log (tail)`, async () => tail(h.ovs.logs().vswitchd, 30));
    }
    for (const v of this.vms()) {
      await safe(`${v.name}: ip addr / neigh`, async () => {
        const a = await v.exec(['ip', '-br', 'addr']);
        const n = await v.exec(['ip', 'neigh']);
        return a.stdout + n.stdout;
      });
    }
    for (const p of this.processes()) await safe(`process ${p.node}/${p.name} (tail)`, async () => p.logTail(30));
    return parts.join('\n');
  }

  /** `ovs-appctl ofproto/trace` on a host's bridge (flow in ovs-ofctl syntax), for failure reports. */
  trace(host: string, flow: string, bridge?: string): Promise<string> {
    const h = this.host(host);
    return h.appctl('ofproto/trace', bridge ?? h.bridge, flow);
  }

  // ---------------------------------------------------------------- plain dataplane

  /** Switch the plain setup's encapsulation (both tunnel ports exist; only the flows change). */
  async setEncap(encap: Encap): Promise<void> {
    this.s.encap = checkEncap(encap);
    this.save();
    if (this.s.mode === 'plain') await this.refreshPlainFlows();
  }

  /** Recompute and install the plain flows on every host (replace-flows: only differences are changed). */
  async refreshPlainFlows(): Promise<void> {
    if (this.s.mode !== 'plain')
      throw new LabError('VNET_LAB_NOT_PLAIN', `lab ${this.s.prefix} runs in mode ${this.s.mode}`);
    const attached = this.s.vms.filter((v) => v.attached && v.bridge === this.s.bridge);
    for (const h of this.s.hosts) {
      const host = new LabHost(this, h);
      const local = [];
      for (const v of attached.filter((x) => x.host === h.name))
        local.push({ mac: v.mac, ofport: await this.ofport(host, v.port) });
      const remote = attached
        .filter((x) => x.host !== h.name)
        .map((v) => ({ mac: v.mac, hostIp: this.host(v.host).underlayIp }));
      const flows = plainFlows({
        tunnelOfport: await this.ofport(host, TUNNEL_PORTS[this.s.encap]),
        local,
        remote,
        otherHostIps: this.s.hosts.filter((x) => x !== h).map((x) => x.underlayIp),
        key: TUNNEL_KEY,
      });
      const file = join(h.dir, 'plain-flows.txt');
      writeFileSync(file, `${flows.join('\n')}\n`);
      await host.ofctl('replace-flows', h.bridge, file);
    }
  }

  // ---------------------------------------------------------------- internals

  private save(): void {
    writeState(this.s);
  }

  private markedEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...process.env, ...env, [LAB_MARKER_ENV]: this.s.dir };
  }

  private assertFreeName(name: string, field: string): void {
    if (this.s.hosts.some((h) => h.name === name) || this.s.vms.some((v) => v.name === name))
      throw new LabInputError(field, `'${name}' is already a host or VM of this lab`);
  }

  private assertFreePort(host: string, port: string, field: string): void {
    if (['ul0', 'br-phy', 'lo', 'ovs-netdev', TUNNEL_PORTS.gre, TUNNEL_PORTS.vxlan].includes(port))
      throw new LabInputError(field, `'${port}' is reserved on lab hosts`);
    if (this.s.hosts.some((h) => h.name === host && h.bridge === port))
      throw new LabInputError(field, `'${port}' is the host's bridge`);
    if (this.s.vms.some((v) => v.host === host && v.port === port))
      throw new LabInputError(field, `'${port}' is already a port on host ${host}`);
  }

  private freeDefaultMac(n: number): string {
    let mac = defaultMac(n);
    while (this.s.vms.some((v) => v.mac === mac)) mac = defaultMac(++n);
    return mac;
  }

  /**
   * Two fresh temporary interface names (`<prefix>_<n>a|b`). They are only ever created inside lab
   * namespaces, and we refuse any that exists in the root namespace, so no command can ever pick
   * up (and move away) one of the machine's own interfaces.
   */
  private tmpNames(): [string, string] {
    const n = (this.s.tmpCounter++).toString(36);
    this.save();
    const a = `${this.s.prefix}_${n}a`;
    const b = `${this.s.prefix}_${n}b`;
    for (const x of [a, b]) {
      if (x.length > 15) throw new LabSafetyError(`temporary interface name ${x} is longer than 15 characters`);
      if (existsSync(`/sys/class/net/${x}`))
        throw new LabSafetyError(`${x} exists in the root namespace; refusing to use it`);
    }
    return [a, b];
  }

  private async addNetns(ns: string): Promise<void> {
    if (existsSync(`/run/netns/${ns}`)) throw new LabSafetyError(`netns ${ns} already exists`);
    await runIn(undefined, ['ip', 'netns', 'add', ns]);
    await runIn(undefined, [
      'ip',
      'netns',
      'exec',
      ns,
      'sysctl',
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }

  /** Create the VM's veth in its host netns and configure eth0 (name, MAC, MTU, IP, route, offloads). */
  private async plug(st: VmState): Promise<void> {
    const hostNs = this.host(st.host).netns;
    const vm = st.netns;
    const [a, b] = this.tmpNames();
    const mtu = String(st.mtu);
    // Created inside the host netns with the peer placed straight into the VM netns: nothing is
    // created in, or moved out of, the root namespace; the final names are set inside each netns.
    await runIn(undefined, [
      'ip',
      '-n',
      hostNs,
      'link',
      'add',
      a,
      'mtu',
      mtu,
      'type',
      'veth',
      'peer',
      'name',
      b,
      'netns',
      vm,
    ]);
    await runIn(undefined, ['ip', '-n', vm, 'link', 'set', b, 'name', 'eth0']);
    await runIn(undefined, ['ip', '-n', vm, 'link', 'set', 'eth0', 'address', st.mac, 'mtu', mtu]);
    // Fast ARP retries (10 ms, up to 100 probes) so a first ping is not delayed by the 1 s ARP
    // back-off. Per device: a non-initial netns has no neigh/default.
    await runIn(vm, [
      'sysctl',
      '-qw',
      'net.ipv4.neigh.eth0.retrans_time_ms=10',
      'net.ipv4.neigh.eth0.mcast_solicit=100',
    ]);
    if (st.ip) await runIn(undefined, ['ip', '-n', vm, 'addr', 'add', st.ip, 'dev', 'eth0']);
    await runIn(undefined, ['ip', '-n', vm, 'link', 'set', 'eth0', 'up']);
    if (st.gateway) await runIn(undefined, ['ip', '-n', vm, 'route', 'add', 'default', 'via', st.gateway]);
    // Checksum offload on a veth into the userspace datapath leaves TCP checksums unfilled: TCP stalls.
    await runIn(vm, ['ethtool', '-K', 'eth0', 'tx', 'off']);
    await runIn(undefined, ['ip', '-n', hostNs, 'link', 'set', a, 'name', st.port]);
    await runIn(undefined, ['ip', '-n', hostNs, 'link', 'set', st.port, 'up']);
    await runIn(hostNs, ['ethtool', '-K', st.port, 'tx', 'off']);
  }

  private async unplug(st: VmState): Promise<void> {
    await execIn(undefined, ['ip', '-n', this.host(st.host).netns, 'link', 'del', st.port]);
  }

  private async attachPort(st: VmState): Promise<void> {
    const host = this.host(st.host);
    const args = ['--may-exist', 'add-port', st.bridge, st.port];
    if (st.ifaceId)
      args.push(
        '--',
        'set',
        'interface',
        st.port,
        `external_ids:iface-id="${st.ifaceId}"`,
        `external_ids:attached-mac="${st.mac}"`,
      );
    await host.vsctl(...args);
    st.attached = true;
    this.save();
  }

  private async detachPort(st: VmState): Promise<void> {
    await this.host(st.host).vsctl('--if-exists', 'del-port', st.bridge, st.port);
    st.attached = false;
    this.save();
  }

  private async ofport(host: LabHost, port: string): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const n = Number((await host.vsctl('get', 'interface', port, 'ofport')).trim());
      if (n > 0) return n;
      await sleep(50);
    }
    throw new LabError('VNET_LAB_NO_OFPORT', `${host.name}: port ${port} got no OpenFlow port number`);
  }

  private procHandle(p: ProcState): LabProcess {
    return {
      node: p.node,
      name: p.name,
      pid: p.pid,
      log: p.log,
      alive: () => procStartTime(p.pid) === p.startTime,
      logTail: (lines = 20) => tail(p.log, lines),
      stop: () => this.stopProcess(p.node, p.name),
    };
  }

  /** TERM (then KILL) a spawned process and its process group, only if it is still the one we started. */
  private async stopProc(p: ProcState): Promise<number[]> {
    if (procStartTime(p.pid) !== p.startTime || !isLabProcess(p.pid, this.s.dir)) return [];
    try {
      // Detached → its own process group: children (e.g. of a shell wrapper) go with it.
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      /* not a group leader any more */
    }
    return terminate([p.pid]);
  }

  private async waitLog(p: LabProcess, text: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (tail(p.log, 50).includes(text)) return;
      if (!p.alive()) throw new LabError('VNET_LAB_PROCESS_DIED', `${p.node}/${p.name} exited: ${p.logTail(10)}`);
      await sleep(20);
    }
    throw new LabTimeoutError(`${p.node}/${p.name} to print '${text}'`, ms);
  }
}

/**
 * One entry per packet from tcpdump's output: a packet starts with its timestamp; tcpdump prints the
 * inner frame of some encapsulations (VXLAN) on a line of its own, which belongs to the packet above.
 */
export function packetLines(out: string): string[] {
  const packets: string[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\d{2}:\d{2}:\d{2}\.\d+ /.test(line) || packets.length === 0) packets.push(line);
    else packets[packets.length - 1] += ` ${line.trim()}`;
  }
  return packets;
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

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}
