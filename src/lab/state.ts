// The lab's on-disk state (/tmp/<prefix>/lab.json): what exists, so another process (the CLI) can use or remove it.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, LabNotFoundError } from './errors.js';
import type { Encap, LabMode } from './topology.js';

export interface HostState {
  name: string;
  /** 1-based position; used for the default underlay IP and the dpid. */
  index: number;
  netns: string;
  /** Run dir of the host's OVS daemons and of processes spawned in it. */
  dir: string;
  underlayIp: string;
  underlayPrefixLen: number;
  /** Name of the underlay veth end inside `<prefix>-ul` (a port of its Linux bridge). */
  ulPort: string;
  /** Integration bridge name and whether the lab created it. */
  bridge: string;
  bridgeCreated: boolean;
  /** `other_config:datapath-id` the lab set on the bridge, as "0x%016x" (null if the lab did not create it). */
  dpid: string | null;
}

export interface VmState {
  name: string;
  netns: string;
  host: string;
  mac: string;
  /** `a.b.c.d/len` or null. */
  ip: string | null;
  gateway: string | null;
  mtu: number;
  port: string;
  bridge: string;
  ifaceId: string | null;
  /** Whether the host-side port is currently a port of `bridge`. */
  attached: boolean;
}

/** The provider segment (external.ts): netns `<prefix>-ext` holding a VLAN-aware switch (its own OVS). */
export interface SegmentState {
  netns: string;
  /** The switch's bridge every uplink and external node joins. */
  bridge: string;
  /** Run dir of the segment's OVS daemons. */
  dir: string;
}

/** A host's uplink: a veth from a port of its integration bridge to a trunk port of the segment bridge. */
export interface UplinkState {
  host: string;
  /** Host-side name (in the host netns), a port of `bridge` while `attached`. */
  port: string;
  /** Segment-side name (in the segment netns): a trunk (every VLAN tagged, VLAN 1 untagged). */
  segPort: string;
  mtu: number;
  bridge: string;
  attached: boolean;
  /** The segment end is set down (cutUplink) to stand for a failed link. */
  cut: boolean;
}

/** A node outside the cloud: a netns whose eth0 is an access port of the segment bridge. */
export interface ExternalState {
  name: string;
  netns: string;
  mac: string;
  /** `a.b.c.d/len` or null. */
  ip: string | null;
  /** The VLAN its access port is in (untagged), or null for the flat (untagged, VLAN 1) network. */
  vlan: number | null;
  gateway: string | null;
  mtu: number;
  /** Segment-side name of its veth (in the segment netns). */
  segPort: string;
}

/**
 * The "internet" beyond the segment (internet.ts): an upstream router (an external node, recorded in
 * `externals` as well) and a netns behind it on a veth, with an HTTP server that echoes the client address.
 */
export interface InternetState {
  /** Name of the external node acting as router (eth0 on the segment, eth1 towards the internet host). */
  router: string;
  /** Node name of the internet host; its netns is `<prefix>-<name>`. */
  name: string;
  netns: string;
  /** MAC of the internet host's eth0. */
  mac: string;
  /** The internet subnet, `a.b.c.0/len`. */
  subnet: string;
  /** The router's address on it (`a.b.c.1/len`, its eth1). */
  routerIp: string;
  /** The internet host's address (`a.b.c.10/len`, its eth0; default route via `routerIp`). */
  ip: string;
}

export interface ProcState {
  node: string;
  name: string;
  pid: number;
  /** /proc/<pid>/stat start time, to never signal a recycled pid. */
  startTime: string;
  log: string;
  cmd: string[];
}

export interface LabState {
  version: 1;
  prefix: string;
  dir: string;
  underlay: string;
  encap: Encap;
  mode: LabMode;
  bridge: string;
  /** Default for hosts: whether the lab creates the integration bridge. */
  createBridge: boolean;
  createdAt: string;
  /** Counter for unique temporary interface names. */
  tmpCounter: number;
  hosts: HostState[];
  vms: VmState[];
  procs: ProcState[];
  /** The provider segment, made on first use (null until then). */
  segment: SegmentState | null;
  uplinks: UplinkState[];
  externals: ExternalState[];
  /** The upstream router and internet host (internet.ts), or null. */
  internet: InternetState | null;
  /** Addresses of the underlay namespace itself (hosts.ts addUnderlayAddress): machines that are no hypervisor. */
  underlayAddresses: string[];
}

export function labDir(prefix: string): string {
  return `/tmp/${prefix}`;
}

export function stateFile(prefix: string): string {
  return join(labDir(prefix), 'lab.json');
}

export function readState(prefix: string): LabState {
  const file = stateFile(prefix);
  if (!existsSync(file)) throw new LabNotFoundError(prefix);
  let s: LabState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  } catch (err) {
    throw new LabError('VNET_LAB_BAD_STATE', `${file} is not valid JSON (run 'vnet lab down --prefix ${prefix}')`, {
      cause: err,
    });
  }
  if (s.version !== 1 || s.prefix !== prefix)
    throw new LabError('VNET_LAB_BAD_STATE', `${file} is not a lab state of prefix ${prefix}`);
  // Labs written before the external side existed have none of it.
  s.segment ??= null;
  s.uplinks ??= [];
  s.externals ??= [];
  s.internet ??= null;
  s.underlayAddresses ??= [];
  return s;
}

/** Write atomically (temp file + rename) so a crash never leaves half a state file. */
export function writeState(s: LabState): void {
  mkdirSync(s.dir, { recursive: true });
  const file = stateFile(s.prefix);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(tmp, file);
}
