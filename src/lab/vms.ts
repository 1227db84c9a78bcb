// Lab VMs: a netns each whose eth0 is a veth to a port of its host's bridge; attach, detach, move, remove.
import type { LabContext } from './context.js';
import { LabInputError } from './errors.js';
import { execIn } from './exec.js';
import { addNetns, addVeth, configureEth0, raisePort, tmpVethNames } from './netns.js';
import { syncPlainFlows, TUNNEL_PORTS } from './plain.js';
import { stopProcesses } from './processes.js';
import type { VmState } from './state.js';
import { checkIfName, DEFAULT_VM_MTU, defaultMac, validateVmSpec, type VmSpec } from './topology.js';

/**
 * Add a VM: netns `<prefix>-<name>` (lo up, IPv6 off, fast ARP retries) whose eth0 is one end of a
 * veth; the other end, in the host netns, is renamed to `spec.port` and attached to the bridge
 * (with external_ids:iface-id/attached-mac if `ifaceId` is given). TX checksum offload off on both.
 */
export async function addVm(ctx: LabContext, input: VmSpec, opts: { deferFlows?: boolean } = {}): Promise<VmState> {
  const s = ctx.state;
  const spec = validateVmSpec(input as unknown as Record<string, unknown>, 'vm');
  ctx.assertFreeName(spec.name, 'vm.name');
  const host = ctx.hostState(spec.host);
  const st: VmState = {
    name: spec.name,
    netns: `${s.prefix}-${spec.name}`,
    host: host.name,
    mac: spec.mac ?? freeDefaultMac(ctx, s.vms.length + 1),
    ip: spec.ip ?? null,
    gateway: spec.gateway ?? null,
    mtu: spec.mtu ?? DEFAULT_VM_MTU,
    port: spec.port ?? checkIfName(`if-${spec.name}`, 'vm.port'),
    bridge: spec.bridge ?? host.bridge,
    ifaceId: spec.ifaceId ?? null,
    attached: false,
  };
  if (s.vms.some((v) => v.mac === st.mac)) throw new LabInputError('vm.mac', `${st.mac} is used by another VM`);
  assertFreePort(ctx, host.name, st.port, 'vm.port');
  s.vms.push(st);
  ctx.save();
  await addNetns(st.netns);
  await plug(ctx, st);
  // A bridge the lab did not create (left to the agent) may not exist yet: such VMs are made but
  // not attached unless asked; attachVm() plugs them in once the agent has made the bridge.
  const bridgeMissing = !host.bridgeCreated && st.bridge === host.bridge;
  if (spec.attach ?? !bridgeMissing) await attachPort(ctx, st);
  if (!opts.deferFlows) await syncPlainFlows(ctx);
  return st;
}

/** (Re)attach a VM's host port to a bridge, optionally changing bridge / iface-id. */
export async function attachVm(
  ctx: LabContext,
  name: string,
  opts: { bridge?: string; ifaceId?: string | null } = {},
): Promise<void> {
  const st = ctx.vmState(name);
  if (st.attached) await detachPort(ctx, st);
  if (opts.bridge !== undefined) st.bridge = checkIfName(opts.bridge, 'bridge');
  if (opts.ifaceId !== undefined) st.ifaceId = opts.ifaceId;
  await attachPort(ctx, st);
  await syncPlainFlows(ctx);
}

/** Remove a VM's port from its bridge (the veth and the VM stay; the VM is cut off). */
export async function detachVm(ctx: LabContext, name: string): Promise<void> {
  await detachPort(ctx, ctx.vmState(name));
  await syncPlainFlows(ctx);
}

/**
 * Move a VM to another host (live-migration stand-in): its veth is removed from the old host and a
 * new one made in the new host with the same port name, MAC, IP, MTU and gateway, then attached.
 */
export async function moveVm(
  ctx: LabContext,
  name: string,
  toHost: string,
  opts: { port?: string; ifaceId?: string | null } = {},
): Promise<void> {
  const st = ctx.vmState(name);
  const to = ctx.hostState(toHost);
  const port = opts.port !== undefined ? checkIfName(opts.port, 'port') : st.port;
  if (to.name !== st.host || port !== st.port) assertFreePort(ctx, to.name, port, 'port');
  if (st.attached) await detachPort(ctx, st);
  await execIn(undefined, ['ip', '-n', ctx.hostState(st.host).netns, 'link', 'del', st.port]);
  st.host = to.name;
  st.port = port;
  if (opts.ifaceId !== undefined) st.ifaceId = opts.ifaceId;
  ctx.save();
  await plug(ctx, st);
  await attachPort(ctx, st);
  await syncPlainFlows(ctx);
}

/** Delete a VM: its processes, port, veth and netns. */
export async function removeVm(ctx: LabContext, name: string): Promise<void> {
  const st = ctx.vmState(name);
  await stopProcesses(ctx, (p) => p.node === name);
  if (st.attached) await detachPort(ctx, st).catch(() => undefined);
  await execIn(undefined, ['ip', 'netns', 'del', st.netns]);
  ctx.state.vms = ctx.state.vms.filter((v) => v.name !== name);
  ctx.save();
  await syncPlainFlows(ctx);
}

/** A port name free on a host: not reserved, not its bridge, not another VM's port or its uplink. */
export function assertFreePort(ctx: LabContext, host: string, port: string, field: string): void {
  const s = ctx.state;
  if (['ul0', 'br-phy', 'lo', 'ovs-netdev', TUNNEL_PORTS.gre, TUNNEL_PORTS.vxlan].includes(port))
    throw new LabInputError(field, `'${port}' is reserved on lab hosts`);
  if (s.hosts.some((h) => h.name === host && h.bridge === port))
    throw new LabInputError(field, `'${port}' is the host's bridge`);
  if (s.vms.some((v) => v.host === host && v.port === port))
    throw new LabInputError(field, `'${port}' is already a port on host ${host}`);
  if (s.uplinks.some((u) => u.host === host && u.port === port))
    throw new LabInputError(field, `'${port}' is the uplink of host ${host}`);
}

function freeDefaultMac(ctx: LabContext, n: number): string {
  let mac = defaultMac(n);
  while (ctx.state.vms.some((v) => v.mac === mac)) mac = defaultMac(++n);
  return mac;
}

/** Create the VM's veth in its host netns and configure eth0 (name, MAC, MTU, IP, route, offloads). */
async function plug(ctx: LabContext, st: VmState): Promise<void> {
  const hostNs = ctx.hostState(st.host).netns;
  const vm = st.netns;
  const [a, b] = tmpVethNames(ctx);
  await addVeth(hostNs, a, vm, b, st.mtu);
  await configureEth0(vm, b, st);
  await raisePort(hostNs, a, st.port);
}

async function attachPort(ctx: LabContext, st: VmState): Promise<void> {
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
  await ctx.ovs(ctx.hostState(st.host)).vsctl(...args);
  st.attached = true;
  ctx.save();
}

async function detachPort(ctx: LabContext, st: VmState): Promise<void> {
  await ctx.ovs(ctx.hostState(st.host)).vsctl('--if-exists', 'del-port', st.bridge, st.port);
  st.attached = false;
  ctx.save();
}
