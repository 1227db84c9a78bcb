// One lab's state and what every part of the lab (hosts, VMs, processes, probes...) needs from it:
// saving it, finding a node and its netns, running a command there with the lab's marker set.
import { LabInputError, LabUnknownNodeError } from './errors.js';
import { type ExecOptions, type ExecResult, execIn, LAB_MARKER_ENV, runIn } from './exec.js';
import { attachOvs, type OvsInstance } from './ovs-instance.js';
import { type ExternalState, type HostState, type LabState, type VmState, writeState } from './state.js';
import { ROOT_NODE, SEGMENT_NODE, UNDERLAY_NODE } from './topology.js';

export class LabContext {
  constructor(readonly state: LabState) {}

  /** Every mutation is written at once, so a crash leaves a findable lab. */
  save(): void {
    writeState(this.state);
  }

  /** Netns of the underlay (Linux bridge `ulbr`, one port `ul-<host>` per host). */
  get underlayNetns(): string {
    return `${this.state.prefix}-${UNDERLAY_NODE}`;
  }

  /** The environment of everything the lab starts: it carries the marker cleanup finds strays by. */
  markedEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...process.env, ...env, [LAB_MARKER_ENV]: this.state.dir };
  }

  hostState(name: string): HostState {
    return findNamed(this.state.hosts, 'host', name);
  }

  vmState(name: string): VmState {
    return findNamed(this.state.vms, 'VM', name);
  }

  externalState(name: string): ExternalState {
    return findNamed(this.state.externals, 'external node', name);
  }

  /** Netns of the provider segment (external.ts); exists once `segment` is set in the state. */
  get segmentNetns(): string {
    return `${this.state.prefix}-${SEGMENT_NODE}`;
  }

  /** The private OVS of a host. */
  ovs(h: HostState): OvsInstance {
    return attachOvs({ dir: h.dir, netns: h.netns });
  }

  /**
   * The netns of a node: a host, a VM, an external node, `ul` (underlay), `ext` (the provider segment,
   * once made) or `root` (undefined: the machine's own namespace).
   */
  nodeNetns(node: string): string | undefined {
    if (node === ROOT_NODE) return undefined;
    if (node === UNDERLAY_NODE) return this.underlayNetns;
    if (node === SEGMENT_NODE && this.state.segment) return this.segmentNetns;
    if (this.namedNodes().includes(node)) return `${this.state.prefix}-${node}`;
    throw new LabUnknownNodeError('node', node, [
      ...this.namedNodes(),
      UNDERLAY_NODE,
      ...(this.state.segment ? [SEGMENT_NODE] : []),
      ROOT_NODE,
    ]);
  }

  /** Hosts, VMs, external nodes and the internet host: they share one name space (their netns is `<prefix>-<name>`). */
  private namedNodes(): string[] {
    const s = this.state;
    return [...s.hosts, ...s.vms, ...s.externals, ...(s.internet ? [s.internet] : [])].map((n) => n.name);
  }

  /** Run a command in a node's namespace; never throws for a non-zero exit. */
  exec(node: string, cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
    return execIn(this.nodeNetns(node), cmd, { ...opts, env: this.markedEnv(opts.env) });
  }

  /** Run a command in a node's namespace and return stdout; throws LabCommandError on a non-zero exit. */
  run(node: string, cmd: string[], opts: ExecOptions = {}): Promise<string> {
    if (cmd.length === 0) throw new LabInputError('cmd', 'is empty');
    return runIn(this.nodeNetns(node), cmd, { ...opts, env: this.markedEnv(opts.env) });
  }

  assertFreeName(name: string, field: string): void {
    if (this.namedNodes().includes(name))
      throw new LabInputError(field, `'${name}' is already a host, VM, external node or internet host of this lab`);
  }
}

function findNamed<T extends { name: string }>(list: T[], kind: string, name: string): T {
  const found = list.find((x) => x.name === name);
  if (!found)
    throw new LabUnknownNodeError(
      kind,
      name,
      list.map((x) => x.name),
    );
  return found;
}
