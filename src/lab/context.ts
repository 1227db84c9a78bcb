// One lab's state and what every part of the lab (hosts, VMs, processes, probes...) needs from it:
// saving it, finding a node and its netns, running a command there with the lab's marker set.
import { LabInputError, LabUnknownNodeError } from './errors.js';
import { type ExecOptions, type ExecResult, execIn, LAB_MARKER_ENV, runIn } from './exec.js';
import { attachOvs, type OvsInstance } from './ovs-instance.js';
import { type HostState, type LabState, type VmState, writeState } from './state.js';
import { ROOT_NODE, UNDERLAY_NODE } from './topology.js';

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

  /** The private OVS of a host. */
  ovs(h: HostState): OvsInstance {
    return attachOvs({ dir: h.dir, netns: h.netns });
  }

  /** The netns of a node: a host, a VM, `ul` (underlay) or `root` (undefined: the machine's own namespace). */
  nodeNetns(node: string): string | undefined {
    if (node === ROOT_NODE) return undefined;
    if (node === UNDERLAY_NODE) return this.underlayNetns;
    if (this.state.hosts.some((h) => h.name === node) || this.state.vms.some((v) => v.name === node))
      return `${this.state.prefix}-${node}`;
    throw new LabUnknownNodeError('host or VM', node, [
      ...this.state.hosts.map((h) => h.name),
      ...this.state.vms.map((v) => v.name),
      UNDERLAY_NODE,
      ROOT_NODE,
    ]);
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
    if (this.state.hosts.some((h) => h.name === name) || this.state.vms.some((v) => v.name === name))
      throw new LabInputError(field, `'${name}' is already a host or VM of this lab`);
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
