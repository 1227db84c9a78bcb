// LabHost, LabVm and LabExternal: handles on one host, VM or external node of a Lab, read from its state; commands go through the Lab.
import type { ExecOptions, ExecResult } from './exec.js';
import { attachOvs, type OvsInstance } from './ovs-instance.js';
import type { PingOptions, PingResult } from './probes.js';
import type { LabProcess, SpawnOptions } from './processes.js';
import type { ExternalState, HostState, InternetState, VmState } from './state.js';

/** The part of the Lab a handle uses: running commands in a node by name (the Lab facade implements it). */
export interface NodeRunner {
  exec(node: string, cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  run(node: string, cmd: string[], opts?: ExecOptions): Promise<string>;
  spawn(node: string, name: string, cmd: string[], opts?: SpawnOptions): Promise<LabProcess>;
  ping(node: string, dst: string, opts?: PingOptions): Promise<PingResult>;
}

/** What hosts and VMs share: a name, a netns, and commands and processes run inside it. */
abstract class LabNode<S extends { name: string; netns: string }> {
  constructor(
    protected readonly lab: NodeRunner,
    readonly state: S,
  ) {}
  get name(): string {
    return this.state.name;
  }
  get netns(): string {
    return this.state.netns;
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

/** A lab host: a netns with its own ovsdb-server + ovs-vswitchd, br-phy on the underlay, and (usually) br0. */
export class LabHost extends LabNode<HostState> {
  readonly ovs: OvsInstance;
  constructor(lab: NodeRunner, state: HostState) {
    super(lab, state);
    this.ovs = attachOvs({ dir: state.dir, netns: state.netns });
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
}

/** What VMs and external nodes share: an eth0 with a MAC and maybe an address, and ping from it. */
abstract class LabEndpoint<
  S extends { name: string; netns: string; mac: string; ip: string | null },
> extends LabNode<S> {
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
  ping(dst: string, opts?: PingOptions): Promise<PingResult> {
    return this.lab.ping(this.name, dst, opts);
  }
}

/** A lab VM: a netns whose eth0 is a veth to a port of its host's bridge. */
export class LabVm extends LabEndpoint<VmState> {
  get host(): string {
    return this.state.host;
  }
  get port(): string {
    return this.state.port;
  }
}

/** A node outside the cloud: a netns whose eth0 is an access port (flat or one VLAN) of the provider segment. */
export class LabExternal extends LabEndpoint<ExternalState> {
  /** The VLAN of its access port, or null (flat: untagged on the uplink trunks). */
  get vlan(): number | null {
    return this.state.vlan;
  }
  /** Its port on the segment bridge (in the segment netns, node `ext`): capture there to see its frames. */
  get segPort(): string {
    return this.state.segPort;
  }
}

/** The internet host (lab.addInternet): a netns behind the upstream router, with an HTTP server on port 80 that answers with the client's address. */
export class LabInternet extends LabEndpoint<InternetState> {
  /** Node name of the router (an external node). */
  get router(): string {
    return this.state.router;
  }
  /** The internet subnet, `a.b.c.0/len`. */
  get subnet(): string {
    return this.state.subnet;
  }
  /** The router's address on the internet subnet (its eth1), without the length. */
  get routerIp(): string {
    return this.state.routerIp.split('/')[0]!;
  }
  /** `http://<ip>/`: GET answers with one line, the client address the host sees. */
  get url(): string {
    return `http://${this.ip}/`;
  }
}
