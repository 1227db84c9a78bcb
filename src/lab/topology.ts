// Lab topology: the typed description of hosts and VMs, its validation, the YAML file format and the --hosts/--vms defaults.
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import { LabInputError } from './errors.js';

/** Tunnel encapsulation used by the plain (controller-less) setup. */
export type Encap = 'gre' | 'vxlan';
export const ENCAPS: readonly Encap[] = ['gre', 'vxlan'];

/** `plain`: the lab installs hand-written L2 + tunnel flows on br0 itself; `none`: an agent will program br0. */
export type LabMode = 'plain' | 'none';

export interface HostSpec {
  /** Short name; the netns is `<prefix>-<name>`. */
  name: string;
  /** Underlay IPv4 of the host (on br-phy's internal port); default: the i-th address of the underlay subnet. */
  underlayIp?: string;
  /** Create the integration bridge (default true); false leaves it to the agent. */
  createBridge?: boolean;
}

export interface VmSpec {
  name: string;
  /** Host the VM is plugged into. */
  host: string;
  /** MAC of eth0; default a locally administered one derived from the VM's index. */
  mac?: string;
  /** `a.b.c.d/len`, or null/absent for none (DHCP tests). */
  ip?: string | null;
  /** Default gateway inside the VM (optional). */
  gateway?: string | null;
  /** MTU of eth0 and of its host-side veth; default 1450 (fits GRE and VXLAN on a 1500 underlay). */
  mtu?: number;
  /** Host-side OVS port name (≤ 15 chars); default `if-<name>`. */
  port?: string;
  /** Bridge to attach to; default the lab's bridge (br0). */
  bridge?: string;
  /** `external_ids:iface-id` on the OVS Interface (as libvirt/OVN set it); `attached-mac` is set with it. */
  ifaceId?: string | null;
  /** Attach the port to the bridge now (default true); false: only create the netns and veth. */
  attach?: boolean;
}

/** An uplink of a host into the provider segment (external.ts). */
export interface UplinkOptions {
  /** Host-side port name (≤ 15 chars); default `ext0`. */
  port?: string;
  /** MTU of both veth ends; default 1500. */
  mtu?: number;
  /** Add the port to the host's bridge now; default: yes if the lab created the bridge (as for VMs). */
  attach?: boolean;
}

/** A node outside the cloud, on the provider segment (external.ts). */
export interface ExternalSpec {
  /** Short name; the netns is `<prefix>-<name>` (hosts, VMs and external nodes share one name space). */
  name: string;
  /** `a.b.c.d/len`, or null/absent for none. */
  ip?: string | null;
  /** VLAN 2..4094 of its (untagged) access port; null/absent: the flat network (untagged on the trunks). */
  vlan?: number | null;
  /** Default gateway inside the node (optional). */
  gateway?: string | null;
  /** MAC of eth0; default `02:00:00:ee:<n>`. */
  mac?: string;
  /** MTU of eth0; default 1500. */
  mtu?: number;
}

/** Lab-wide settings: the head of a topology file, and the options of `Lab.create`/`Lab.up`. */
export interface LabSettings {
  /** Name prefix of every namespace, temporary veth and the run dir /tmp/<prefix>; default `vnl`. */
  prefix?: string;
  /** Underlay subnet (CIDR); default 192.168.100.0/24. Lives only inside lab namespaces. */
  underlay?: string;
  /** Encapsulation of the plain setup; default gre. */
  encap?: Encap;
  /** `plain` (default): the lab programs the bridge with hand-written flows; `none`: an agent will. */
  mode?: LabMode;
  /** Name of the integration bridge; default br0. */
  bridge?: string;
  /** Default for hosts: create the integration bridge (default true). */
  createBridge?: boolean;
}

/** The keys of LabSettings, for code that copies or checks them one by one. */
export const LAB_SETTING_KEYS = [
  'prefix',
  'underlay',
  'encap',
  'mode',
  'bridge',
  'createBridge',
] as const satisfies readonly (keyof LabSettings)[];

export interface Topology extends LabSettings {
  hosts: HostSpec[];
  vms: VmSpec[];
}

export const DEFAULT_PREFIX = 'vnl';
export const DEFAULT_UNDERLAY = '192.168.100.0/24';
export const DEFAULT_BRIDGE = 'br0';
export const DEFAULT_VM_MTU = 1450;
/** MTU of uplinks and external nodes: the provider segment is a plain 1500-byte Ethernet. */
export const DEFAULT_EXTERNAL_MTU = 1500;
/** Netns suffix of the underlay namespace (`<prefix>-ul`); no host or VM may use it. */
export const UNDERLAY_NODE = 'ul';
/** Netns suffix and node name of the provider segment (`<prefix>-ext`, external.ts); no host, VM or external node may use it. */
export const SEGMENT_NODE = 'ext';
/** Pseudo node name for the machine's own (root) namespace, e.g. for `spawn('root', ...)`. */
export const ROOT_NODE = 'root';

// Prefixes carry no '-' so `<prefix>-` never matches another lab's namespaces, and stay short so
// `<prefix>` + a counter fits a 15-character interface name.
const PREFIX_RE = /^[a-z][a-z0-9]{0,7}$/;
const NAME_RE = /^[a-z][a-z0-9_]{0,11}$/;
const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function checkPrefix(prefix: string, field = 'prefix'): string {
  if (!PREFIX_RE.test(prefix))
    throw new LabInputError(field, `'${prefix}' must match ${PREFIX_RE} (no '-', ≤ 8 chars)`);
  return prefix;
}

export function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !NAME_RE.test(name))
    throw new LabInputError(field, `${JSON.stringify(name)} must match ${NAME_RE}`);
  if (name === UNDERLAY_NODE || name === ROOT_NODE || name === SEGMENT_NODE)
    throw new LabInputError(field, `'${name}' is reserved`);
  return name;
}

export function checkIfName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !IFNAME_RE.test(name))
    throw new LabInputError(
      field,
      `${JSON.stringify(name)} is not a valid interface name (1-15 chars of [A-Za-z0-9_.-])`,
    );
  return name;
}

export function checkMac(mac: unknown, field: string): string {
  if (typeof mac !== 'string') throw new LabInputError(field, 'must be a MAC address string');
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m)) throw new LabInputError(field, `'${mac}' is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  if (Number.parseInt(m.slice(0, 2), 16) & 1) throw new LabInputError(field, `'${mac}' is a multicast MAC`);
  return m;
}

export function checkIpv4(ip: unknown, field: string): string {
  if (typeof ip !== 'string' || !ipaddr.IPv4.isValidFourPartDecimal(ip))
    throw new LabInputError(field, `${JSON.stringify(ip)} is not an IPv4 address`);
  return ip;
}

/** `a.b.c.d/len` with a host address (not the network or broadcast address of a /≤30). */
export function checkCidr(cidr: unknown, field: string): { ip: string; prefixLen: number } {
  if (typeof cidr !== 'string' || !cidr.includes('/'))
    throw new LabInputError(field, `${JSON.stringify(cidr)} is not a.b.c.d/len`);
  const [ip, len] = cidr.split('/') as [string, string];
  checkIpv4(ip, field);
  const prefixLen = Number(len);
  if (!/^\d+$/.test(len) || prefixLen < 1 || prefixLen > 32)
    throw new LabInputError(field, `prefix length '${len}' is not 1..32`);
  return { ip, prefixLen };
}

export function checkMtu(mtu: unknown, field: string): number {
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 9000)
    throw new LabInputError(field, `${JSON.stringify(mtu)} must be an integer 576..9000`);
  return mtu;
}

export function checkEncap(encap: unknown, field = 'encap'): Encap {
  if (encap !== 'gre' && encap !== 'vxlan')
    throw new LabInputError(field, `${JSON.stringify(encap)} must be gre or vxlan`);
  return encap;
}

function checkBool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new LabInputError(field, `${JSON.stringify(v)} must be true or false`);
  return v;
}

/** The i-th (1-based) host address of `subnet`, e.g. (192.168.100.0/24, 2) → 192.168.100.2. */
export function nthAddress(subnet: string, i: number, field = 'underlay'): string {
  const { ip, prefixLen } = checkCidr(subnet, field);
  const base = ipaddr.IPv4.parse(ip)
    .toByteArray()
    .reduce((a, b) => a * 256 + b, 0);
  const size = 2 ** (32 - prefixLen);
  const net = base - (base % size);
  if (i < 1 || i >= size - 1) throw new LabInputError(field, `subnet ${subnet} has no host address #${i}`);
  const n = net + i;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Whether `ip` lies inside `subnet` (CIDR). */
export function inSubnet(ip: string, subnet: string): boolean {
  const [net, len] = subnet.split('/') as [string, string];
  return ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(net), Number(len));
}

/** Default MAC of the n-th VM (1-based): locally administered, unicast. */
export function defaultMac(n: number): string {
  return `02:00:00:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
}

/** The topology `vnet lab up --hosts H --vms V` builds: hosts h1..hH, VMs vm1..vmV round-robin, 10.0.0.(10+i)/24. */
export function defaultTopology(hosts: number, vms: number): Topology {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > 50) throw new LabInputError('hosts', `${hosts} must be 1..50`);
  if (!Number.isInteger(vms) || vms < 0 || vms > 200) throw new LabInputError('vms', `${vms} must be 0..200`);
  return {
    hosts: Array.from({ length: hosts }, (_, i) => ({ name: `h${i + 1}` })),
    vms: Array.from({ length: vms }, (_, i) => ({
      name: `vm${i + 1}`,
      host: `h${(i % hosts) + 1}`,
      mac: defaultMac(i + 1),
      ip: `10.0.0.${11 + i}/24`,
    })),
  };
}

// YAML keys may be written snake_case, kebab-case or camelCase: `iface_id`, `iface-id`, `ifaceId`.
function camel(key: string): string {
  return key.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LabInputError(field, 'must be a mapping');
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) out[camel(k)] = val;
  return out;
}

function only(o: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new LabInputError(`${field}.${k}`, `unknown key (allowed: ${allowed.join(', ')})`);
}

/** Validate a topology object (from YAML, JSON or code); throws LabInputError naming the bad field. */
export function validateTopology(input: unknown): Topology {
  const t = record(input, 'topology');
  only(t, [...LAB_SETTING_KEYS, 'hosts', 'vms'], 'topology');
  const topo: Topology = { hosts: [], vms: [] };
  if (t.prefix !== undefined) topo.prefix = checkPrefix(String(t.prefix));
  if (t.underlay !== undefined) {
    checkCidr(t.underlay, 'underlay');
    topo.underlay = t.underlay as string;
  }
  if (t.encap !== undefined) topo.encap = checkEncap(t.encap);
  if (t.mode !== undefined) {
    if (t.mode !== 'plain' && t.mode !== 'none')
      throw new LabInputError('mode', `${JSON.stringify(t.mode)} must be plain or none`);
    topo.mode = t.mode;
  }
  if (t.bridge !== undefined) topo.bridge = checkIfName(t.bridge, 'bridge');
  if (t.createBridge !== undefined) topo.createBridge = checkBool(t.createBridge, 'createBridge');
  if (!Array.isArray(t.hosts) || t.hosts.length === 0) throw new LabInputError('hosts', 'must be a non-empty list');
  const names = new Set<string>();
  const unique = (name: string, field: string) => {
    if (names.has(name)) throw new LabInputError(field, `'${name}' is used twice (hosts and VMs share one namespace)`);
    names.add(name);
  };
  t.hosts.forEach((h: unknown, i: number) => {
    const f = `hosts[${i}]`;
    const o = typeof h === 'string' ? { name: h } : record(h, f);
    only(o, ['name', 'underlayIp', 'createBridge'], f);
    const spec: HostSpec = { name: checkName(o.name, `${f}.name`) };
    unique(spec.name, `${f}.name`);
    if (o.underlayIp !== undefined) spec.underlayIp = checkIpv4(o.underlayIp, `${f}.underlay_ip`);
    if (o.createBridge !== undefined) spec.createBridge = checkBool(o.createBridge, `${f}.create_bridge`);
    topo.hosts.push(spec);
  });
  const vms = t.vms ?? [];
  if (!Array.isArray(vms)) throw new LabInputError('vms', 'must be a list');
  const hostNames = new Set(topo.hosts.map((h) => h.name));
  vms.forEach((v: unknown, i: number) => {
    const f = `vms[${i}]`;
    const o = record(v, f);
    only(o, ['name', 'host', 'mac', 'ip', 'gateway', 'mtu', 'port', 'bridge', 'ifaceId', 'attach'], f);
    const spec = validateVmSpec(o, f);
    unique(spec.name, `${f}.name`);
    if (!hostNames.has(spec.host)) throw new LabInputError(`${f}.host`, `'${spec.host}' is not one of the hosts`);
    topo.vms.push(spec);
  });
  return topo;
}

/** Validate one VM spec; `f` is the field path used in errors. */
export function validateVmSpec(o: Record<string, unknown>, f = 'vm'): VmSpec {
  const spec: VmSpec = { name: checkName(o.name, `${f}.name`), host: checkName(o.host, `${f}.host`) };
  if (o.mac !== undefined) spec.mac = checkMac(o.mac, `${f}.mac`);
  if (o.ip !== undefined && o.ip !== null && o.ip !== 'none' && o.ip !== 'dhcp') {
    checkCidr(o.ip, `${f}.ip`);
    spec.ip = o.ip as string;
  } else if (o.ip !== undefined) spec.ip = null;
  if (o.gateway !== undefined && o.gateway !== null) spec.gateway = checkIpv4(o.gateway, `${f}.gateway`);
  if (o.mtu !== undefined) spec.mtu = checkMtu(o.mtu, `${f}.mtu`);
  if (o.port !== undefined) spec.port = checkIfName(o.port, `${f}.port`);
  if (o.bridge !== undefined) spec.bridge = checkIfName(o.bridge, `${f}.bridge`);
  if (o.ifaceId !== undefined && o.ifaceId !== null) {
    if (typeof o.ifaceId !== 'string' || o.ifaceId === '' || /["\s]/.test(o.ifaceId))
      throw new LabInputError(
        `${f}.iface_id`,
        `${JSON.stringify(o.ifaceId)} must be a non-empty string without spaces or quotes`,
      );
    spec.ifaceId = o.ifaceId;
  }
  if (o.attach !== undefined) spec.attach = checkBool(o.attach, `${f}.attach`);
  return spec;
}

/** Validate an external node's spec; `f` is the field path used in errors. */
export function validateExternalSpec(o: Record<string, unknown>, f = 'external'): ExternalSpec {
  only(o, ['name', 'ip', 'vlan', 'gateway', 'mac', 'mtu'], f);
  const spec: ExternalSpec = { name: checkName(o.name, `${f}.name`) };
  if (o.ip !== undefined && o.ip !== null && o.ip !== 'none') {
    checkCidr(o.ip, `${f}.ip`);
    spec.ip = o.ip as string;
  } else if (o.ip !== undefined) spec.ip = null;
  if (o.vlan !== undefined && o.vlan !== null) spec.vlan = checkVlan(o.vlan, `${f}.vlan`);
  if (o.gateway !== undefined && o.gateway !== null) spec.gateway = checkIpv4(o.gateway, `${f}.gateway`);
  if (o.mac !== undefined) spec.mac = checkMac(o.mac, `${f}.mac`);
  if (o.mtu !== undefined) spec.mtu = checkMtu(o.mtu, `${f}.mtu`);
  return spec;
}

/** A VLAN of the provider segment: 2..4094 (VLAN 1 is the untagged, flat network there: say null). */
export function checkVlan(v: unknown, field: string): number {
  if (v === 1) throw new LabInputError(field, "VLAN 1 is the segment's untagged (flat) network: use null");
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 4094)
    throw new LabInputError(field, `${JSON.stringify(v)} must be an integer 2..4094 or null (flat)`);
  return v;
}

/** Parse and validate a topology file's text (YAML; JSON is YAML too). */
export function parseTopology(text: string, file = 'topology'): Topology {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LabInputError(file, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return validateTopology(doc);
}
