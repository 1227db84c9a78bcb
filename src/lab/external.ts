// The lab's external side (no real internet): a provider segment (a VLAN-aware switch in `<prefix>-ext`),
// host uplinks into it as trunks, and external nodes on it as access ports, flat or in a VLAN.
//
// The switch is an Open vSwitch bridge in NORMAL (learning) mode on its own ovsdb-server/ovs-vswitchd,
// not a Linux bridge with vlan_filtering: the lab machines' kernels have neither bridge VLAN filtering
// nor 802.1Q devices (checked: `vlan_filtering 1` and `type vlan` both say "not supported"), while OVS
// does VLANs in userspace. The semantics are those of the Linux bridge we would have used: trunks carry
// every VLAN tagged and untagged frames in VLAN 1 (OVS `vlan_mode=native-untagged tag=1`), access ports
// are untagged members of one VLAN (`tag=N`; flat = VLAN 1).
import { join } from 'node:path';
import type { LabContext } from './context.js';
import { LabInputError } from './errors.js';
import { execIn, runIn } from './exec.js';
import { addNetns, addVeth, configureEth0, raisePort, tmpVethNames } from './netns.js';
import { attachOvs, type OvsInstance, startOvs } from './ovs-instance.js';
import { stopProcesses } from './processes.js';
import type { ExternalState, SegmentState, UplinkState } from './state.js';
import {
  checkIfName,
  checkMtu,
  DEFAULT_EXTERNAL_MTU,
  type ExternalSpec,
  type UplinkOptions,
  validateExternalSpec,
} from './topology.js';
import { assertFreePort } from './vms.js';

/** The segment's switch (an OVS bridge) inside `<prefix>-ext`. */
export const SEGMENT_BRIDGE = 'seg';
/** Default host-side name of an uplink. */
export const DEFAULT_UPLINK_PORT = 'ext0';

// Node names are ≤ 12 characters, so `up-<host>` and `ex-<name>` fit IFNAMSIZ (15).
const uplinkSegPort = (host: string) => `up-${host}`;
const externalSegPort = (name: string) => `ex-${name}`;

// Uplinks of two hosts may be added side by side: both must wait for the one segment being made.
const making = new WeakMap<LabContext, Promise<SegmentState>>();

/** VLAN of untagged frames on the trunks: the flat network. */
export const FLAT_VLAN = 1;

/**
 * The provider segment, made on first use: netns `<prefix>-ext` with its own OVS (run dir
 * `/tmp/<prefix>/ext/`) and the bridge `seg` (netdev, standalone: a learning, VLAN-aware switch).
 * Uplinks join it as trunks, external nodes as access ports.
 */
export function addSegment(ctx: LabContext): Promise<SegmentState> {
  const s = ctx.state;
  if (s.segment) return making.get(ctx) ?? Promise.resolve(s.segment);
  const seg: SegmentState = { netns: ctx.segmentNetns, bridge: SEGMENT_BRIDGE, dir: join(s.dir, 'ext') };
  // Recorded before anything is made, so down() and cleanup know of a half-made segment too
  // (cleanup would find it anyway: its netns carries the lab's prefix).
  s.segment = seg;
  ctx.save();
  const p = (async () => {
    await addNetns(seg.netns);
    const ovs = await startOvs({ dir: seg.dir, netns: seg.netns });
    // fail_mode standalone: the bridge is its own NORMAL switch, no controller ever.
    await ovs.vsctl(
      'add-br',
      seg.bridge,
      '--',
      'set',
      'bridge',
      seg.bridge,
      'datapath_type=netdev',
      'fail_mode=standalone',
      'other_config:disable-in-band=true',
    );
    return seg;
  })();
  making.set(ctx, p);
  return p;
}

/** The segment's OVS (vsctl/ofctl/appctl), e.g. `appctl('fdb/show', 'seg')` in a failure report. */
export function segmentOvs(ctx: LabContext): OvsInstance {
  const seg = ctx.state.segment;
  if (!seg)
    throw new LabInputError('segment', 'the lab has no provider segment yet (addSegment/addUplink/addExternal)');
  return attachOvs({ dir: seg.dir, netns: seg.netns });
}

/**
 * Add a host's uplink: a veth whose host end (`port`, default `ext0`) is a port of the host's bridge
 * (unless that bridge is left to an agent; then `attachUplink` later, as for VMs) and whose segment end
 * `up-<host>` is a trunk: every VLAN tagged, untagged frames in VLAN 1 (the flat network).
 */
export async function addUplink(ctx: LabContext, hostName: string, opts: UplinkOptions = {}): Promise<UplinkState> {
  const s = ctx.state;
  const host = ctx.hostState(hostName);
  if (s.uplinks.some((u) => u.host === host.name))
    throw new LabInputError('uplink.host', `host ${host.name} already has an uplink`);
  const port = checkIfName(opts.port ?? DEFAULT_UPLINK_PORT, 'uplink.port');
  assertFreePort(ctx, host.name, port, 'uplink.port');
  const st: UplinkState = {
    host: host.name,
    port,
    segPort: uplinkSegPort(host.name),
    mtu: checkMtu(opts.mtu ?? DEFAULT_EXTERNAL_MTU, 'uplink.mtu'),
    bridge: host.bridge,
    attached: false,
    cut: false,
  };
  s.uplinks.push(st);
  ctx.save();
  const seg = await addSegment(ctx);
  const [a, b] = tmpVethNames(ctx);
  await addVeth(host.netns, a, seg.netns, b, st.mtu);
  await runIn(undefined, ['ip', '-n', seg.netns, 'link', 'set', b, 'name', st.segPort]);
  await segmentPort(ctx, st.segPort, String(st.mtu), ['vlan_mode=native-untagged', `tag=${FLAT_VLAN}`]);
  await raisePort(host.netns, a, st.port);
  if (opts.attach ?? host.bridgeCreated) await attachUplink(ctx, host.name);
  return st;
}

function uplinkState(ctx: LabContext, host: string): UplinkState {
  const st = ctx.state.uplinks.find((u) => u.host === host);
  if (!st) {
    ctx.hostState(host); // an unknown host is reported as such
    throw new LabInputError('host', `host ${host} has no uplink (lab.addUplink first)`);
  }
  return st;
}

/** Add a host's uplink port to its bridge (e.g. once the agent has created the bridge). */
export async function attachUplink(ctx: LabContext, host: string, opts: { bridge?: string } = {}): Promise<void> {
  const st = uplinkState(ctx, host);
  const ovs = ctx.ovs(ctx.hostState(host));
  if (st.attached) await ovs.vsctl('--if-exists', 'del-port', st.bridge, st.port);
  if (opts.bridge !== undefined) st.bridge = checkIfName(opts.bridge, 'bridge');
  await ovs.vsctl('--may-exist', 'add-port', st.bridge, st.port);
  st.attached = true;
  ctx.save();
}

/** Remove a host's uplink port from its bridge (the veth stays). */
export async function detachUplink(ctx: LabContext, host: string): Promise<void> {
  const st = uplinkState(ctx, host);
  await ctx.ovs(ctx.hostState(host)).vsctl('--if-exists', 'del-port', st.bridge, st.port);
  st.attached = false;
  ctx.save();
}

/**
 * Cut (`up: false`) or restore a host's uplink by setting its segment end down or up: the host end
 * loses carrier as a cable pulled at the switch would, for failover tests.
 */
export async function setUplinkLink(ctx: LabContext, host: string, up: boolean): Promise<void> {
  const st = uplinkState(ctx, host);
  await runIn(undefined, ['ip', '-n', ctx.segmentNetns, 'link', 'set', st.segPort, up ? 'up' : 'down']);
  st.cut = !up;
  ctx.save();
}

/**
 * Add an external node: netns `<prefix>-<name>` whose eth0 is a veth into the segment bridge as an
 * access port `ex-<name>`: untagged in VLAN `vlan`, or in VLAN 1 (flat, untagged on the trunks) if none.
 */
export async function addExternal(ctx: LabContext, input: ExternalSpec): Promise<ExternalState> {
  const s = ctx.state;
  const spec = validateExternalSpec({ ...input } as Record<string, unknown>);
  ctx.assertFreeName(spec.name, 'external.name');
  const st: ExternalState = {
    name: spec.name,
    netns: `${s.prefix}-${spec.name}`,
    mac: spec.mac ?? freeExternalMac(ctx),
    ip: spec.ip ?? null,
    vlan: spec.vlan ?? null,
    gateway: spec.gateway ?? null,
    mtu: spec.mtu ?? DEFAULT_EXTERNAL_MTU,
    segPort: externalSegPort(spec.name),
  };
  if ([...s.vms, ...s.externals].some((n) => n.mac === st.mac))
    throw new LabInputError('external.mac', `${st.mac} is used by a VM or another external node`);
  s.externals.push(st);
  ctx.save();
  const seg = await addSegment(ctx);
  await addNetns(st.netns);
  const [a, b] = tmpVethNames(ctx);
  const mtu = String(st.mtu);
  await addVeth(seg.netns, a, st.netns, b, st.mtu);
  await configureEth0(st.netns, b, st);
  await runIn(undefined, ['ip', '-n', seg.netns, 'link', 'set', a, 'name', st.segPort]);
  await segmentPort(ctx, st.segPort, mtu, ['vlan_mode=access', `tag=${st.vlan ?? FLAT_VLAN}`]);
  return st;
}

/** Delete an external node: its processes, veth and netns. */
export async function removeExternal(ctx: LabContext, name: string): Promise<void> {
  const st = ctx.externalState(name);
  if (ctx.state.internet?.router === name)
    throw new LabInputError('name', `${name} is the internet's router (the lab's internet stays until down())`);
  await stopProcesses(ctx, (p) => p.node === name);
  // Its switch port would stay in the segment's database, pointing at a device that is gone.
  await segmentOvs(ctx)
    .vsctl('--if-exists', 'del-port', SEGMENT_BRIDGE, st.segPort)
    .catch(() => undefined);
  // Deleting the netns deletes its veth, and so the segment's port, too. Tolerant: it may be half-built.
  await execIn(undefined, ['ip', 'netns', 'del', st.netns]);
  ctx.state.externals = ctx.state.externals.filter((e) => e.name !== name);
  ctx.save();
}

/** Make a veth end in the segment netns a port of the switch with the given VLAN settings, and bring it up. */
async function segmentPort(ctx: LabContext, port: string, mtu: string, vlan: string[]): Promise<void> {
  const ns = ctx.segmentNetns;
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', port, 'mtu', mtu]);
  // The segment's switch is a userspace datapath too: no checksum offload on what it reads.
  await runIn(ns, ['ethtool', '-K', port, 'tx', 'off']);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', port, 'up']);
  await segmentOvs(ctx).vsctl('--may-exist', 'add-port', SEGMENT_BRIDGE, port, '--', 'set', 'port', port, ...vlan);
}

/** `02:00:00:ee:hh:ll`: apart from the VMs' default `02:00:00:00:…`. */
function freeExternalMac(ctx: LabContext): string {
  const used = new Set([...ctx.state.vms, ...ctx.state.externals].map((n) => n.mac));
  for (let n = ctx.state.externals.length + 1; ; n++) {
    const mac = `02:00:00:ee:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
    if (!used.has(mac)) return mac;
  }
}
