// Parsing and validation of `vnet agent` options into a typed AgentConfig (errors name the option).
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { AgentConfigError } from './errors.js';

export type Encap = 'gre' | 'vxlan';
export type DatapathType = 'netdev' | 'system';

export interface AgentConfig {
  /** Base URL of the vnet server, e.g. http://127.0.0.1:9090 (no trailing slash): the first of `servers`. */
  server: string;
  /**
   * Every server of the deployment (`--server URL1,URL2`, one database behind them): the agent follows one and
   * moves to the next when its feed fails or stalls, resuming after its last revision.
   */
  servers: string[];
  nodeId: string;
  bridge: string;
  /** OVSDB remote: `unix:PATH` or `tcp:HOST:PORT`. */
  ovsdb: string;
  /** Where the agent listens for the switch's OpenFlow connection (`ssl:HOST:PORT` → `openflowTls`). */
  listen: { host: string; port: number };
  /**
   * The bridge's management socket the agent dials (`unix:<rundir>/<bridge>.mgmt`; `--switch-socket`, by default
   * found next to a `unix:` OVSDB socket); null: ovs-vswitchd dials `listen` instead (`--switch-socket none`, an
   * `ssl:` listener, or an OVSDB reached over the network).
   */
  switchSocket: string | null;
  /**
   * OpenFlow over TLS (`--listen ssl:…`): the agent's key and certificate, and the CA a switch's certificate must
   * chain to (PEM); null: plain TCP.
   */
  openflowTls: { key: string; cert: string; ca: string } | null;
  /**
   * The files ovs-vswitchd presents and verifies with on its ssl: controller connection (absolute paths on this
   * host, written to OVSDB's SSL table as `ovs-vsctl set-ssl` does); null: the operator's own `set-ssl` stays.
   */
  switchSsl: { privateKey: string; certificate: string; caCert: string } | null;
  /** This host's underlay IPv4 address (tunnel endpoint), or null: use the registered one. */
  tunnelIp: string | null;
  encap: Encap;
  underlayMtu: number;
  createBridge: boolean;
  datapathType: DatapathType;
  register: boolean;
  /** Where the agent's API token is kept (read at start; written after an enrollment); null: none. */
  tokenFile: string | null;
  /** A one-time enrollment token to trade for an agent token when the token file holds none. */
  enrollToken: string | null;
  /** PEM certificates to verify an https server with (its self-signed certificate, or its CA); null: the system's. */
  ca: string | null;
  /** For an `ssl:` OVSDB remote: the agent's key and certificate and the CA of ovsdb-server's (PEM). */
  ovsdbTls: { key: string; cert: string; ca: string } | null;
  /** Where `GET /metrics` (Prometheus) is served; null: nowhere (the default). */
  metricsListen: { host: string; port: number } | null;
  /**
   * ovs-vswitchd's control socket (what ovs-appctl talks to; traces ask it), or null: found next to a `unix:`
   * OVSDB socket, as OVS puts both in its run directory.
   */
  vswitchdCtl: string | null;
  /**
   * Source ports the snat translations of this host's gateways use, both ends included (`--snat-ports MIN-MAX`);
   * null: OVS's own choice (1024–65535 for a client port ≥ 1024). With one address, a gateway holds at most this
   * many connections to one destination address and port.
   */
  snatPorts: { min: number; max: number } | null;
  /**
   * The metadata service (169.254.169.254): the network namespace the agent owns for its one metadata port and
   * HTTP server (`--metadata-netns`, default `vnet-meta-<bridge>`); null: no metadata here (`--no-metadata`).
   */
  metadata: { netns: string } | null;
}

/** Raw option strings as commander hands them over (all optional; defaults applied here). */
export interface RawAgentOptions {
  server?: string | undefined;
  nodeId?: string | undefined;
  bridge?: string | undefined;
  ovsdb?: string | undefined;
  listen?: string | undefined;
  switchSocket?: string | undefined;
  tunnelIp?: string | undefined;
  encap?: string | undefined;
  underlayMtu?: string | number | undefined;
  createBridge?: boolean | undefined;
  datapathType?: string | undefined;
  register?: boolean | undefined;
  tokenFile?: string | undefined;
  enrollToken?: string | undefined;
  caFile?: string | undefined;
  ovsdbKey?: string | undefined;
  ovsdbCert?: string | undefined;
  ovsdbCa?: string | undefined;
  openflowKey?: string | undefined;
  openflowCert?: string | undefined;
  openflowCa?: string | undefined;
  switchKey?: string | undefined;
  switchCert?: string | undefined;
  switchCa?: string | undefined;
  metricsListen?: string | undefined;
  vswitchdCtl?: string | undefined;
  snatPorts?: string | undefined;
  /** false: --no-metadata. */
  metadata?: boolean | undefined;
  metadataNetns?: string | undefined;
}

export const DEFAULT_OVSDB = 'unix:/var/run/openvswitch/db.sock';
export const DEFAULT_LISTEN = '127.0.0.1:6633';
export const DEFAULT_SERVER = 'http://127.0.0.1:9090';

/** OVS bridge names become Linux device names (internal port): at most 15 chars, no '/' or space. */
const BRIDGE_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function parseListen(value: string, field = 'listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  if (!m) throw new AgentConfigError(field, `expected HOST:PORT, got '${value}'`);
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (!ipaddr.isValid(host)) throw new AgentConfigError(field, `'${host}' is not an IP address`);
  if (port < 1 || port > 65535) throw new AgentConfigError(field, `port ${port} is out of range 1..65535`);
  return { host, port };
}

export function parseOvsdbRemote(value: string, field = 'ovsdb'): string {
  if (/^unix:\/.+/.test(value)) return value;
  const m = /^(?:tcp|ssl):(.+)$/.exec(value);
  if (m) {
    parseListen(m[1]!, field);
    return value;
  }
  throw new AgentConfigError(field, `expected unix:/PATH, tcp:HOST:PORT or ssl:HOST:PORT, got '${value}'`);
}

/** A PEM file named by option `option`, holding a block of `what` (CERTIFICATE, or any PRIVATE KEY). */
function readPem(file: string, option: string, what: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AgentConfigError(
      option,
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${what}-----`).test(pem))
    throw new AgentConfigError(option, `${file} holds no PEM ${what.toLowerCase()}`);
  return pem;
}

/**
 * The management socket to dial: `--switch-socket unix:PATH`, `none` (listen instead), or by default the bridge's
 * `<bridge>.mgmt` in the directory of a `unix:` OVSDB socket (ovs-vswitchd and ovsdb-server share OVS_RUNDIR).
 * An `ssl:` listener keeps the switch dialing in (the TLS controller path); it cannot be combined with a socket.
 */
function switchSocket(raw: RawAgentOptions, ovsdb: string, bridge: string, tls: boolean): string | null {
  const given = raw.switchSocket;
  if (given === 'none') return null;
  if (given !== undefined) {
    if (!/^unix:\/.+/.test(given))
      throw new AgentConfigError('switch-socket', `expected unix:/PATH or none, got '${given}'`);
    if (tls) throw new AgentConfigError('switch-socket', 'an ssl: --listen address is dialed by the switch: use none');
    return given;
  }
  if (tls || !ovsdb.startsWith('unix:')) return null;
  return `unix:${dirname(ovsdb.slice('unix:'.length))}/${bridge}.mgmt`;
}

/** `ssl:` OVSDB remotes need all three files (as ovs-vsctl's --private-key, --certificate, --ca-cert); others none. */
function ovsdbTls(remote: string, raw: RawAgentOptions): AgentConfig['ovsdbTls'] {
  const given = raw.ovsdbKey !== undefined || raw.ovsdbCert !== undefined || raw.ovsdbCa !== undefined;
  if (!remote.startsWith('ssl:')) {
    if (given) throw new AgentConfigError('ovsdb-key', 'only an ssl: --ovsdb remote takes a key and certificates');
    return null;
  }
  for (const [name, v] of [
    ['ovsdb-key', raw.ovsdbKey],
    ['ovsdb-cert', raw.ovsdbCert],
    ['ovsdb-ca', raw.ovsdbCa],
  ] as const)
    if (v === undefined) throw new AgentConfigError(name, `needed with the ssl: remote ${remote}`);
  return {
    key: readPem(raw.ovsdbKey!, 'ovsdb-key', 'PRIVATE KEY'),
    cert: readPem(raw.ovsdbCert!, 'ovsdb-cert', 'CERTIFICATE'),
    ca: readPem(raw.ovsdbCa!, 'ovsdb-ca', 'CERTIFICATE'),
  };
}

/** A file ovs-vswitchd will read: must exist here (the switch runs on this host) and is passed as an absolute path. */
function switchFile(file: string, option: string): string {
  const path = resolve(file);
  if (!existsSync(path)) throw new AgentConfigError(option, `${path} does not exist`);
  return path;
}

/**
 * `--listen ssl:HOST:PORT` needs the agent's key and certificate and the CA of the switch's (--openflow-key,
 * --openflow-cert, --openflow-ca); --switch-key/--switch-cert/--switch-ca (all or none) are set in ovs-vswitchd's
 * SSL table. Plain listeners take none of them.
 */
function openflowTls(ssl: boolean, raw: RawAgentOptions): Pick<AgentConfig, 'openflowTls' | 'switchSsl'> {
  const ours = [
    ['openflow-key', raw.openflowKey],
    ['openflow-cert', raw.openflowCert],
    ['openflow-ca', raw.openflowCa],
  ] as const;
  const switchs = [
    ['switch-key', raw.switchKey],
    ['switch-cert', raw.switchCert],
    ['switch-ca', raw.switchCa],
  ] as const;
  if (!ssl) {
    const given = [...ours, ...switchs].find(([, v]) => v !== undefined);
    if (given) throw new AgentConfigError(given[0], 'only an ssl: --listen address takes keys and certificates');
    return { openflowTls: null, switchSsl: null };
  }
  for (const [name, v] of ours) if (v === undefined) throw new AgentConfigError(name, 'needed with --listen ssl:…');
  const anySwitch = switchs.some(([, v]) => v !== undefined);
  if (anySwitch)
    for (const [name, v] of switchs)
      if (v === undefined) throw new AgentConfigError(name, 'the switch-key, switch-cert and switch-ca go together');
  return {
    openflowTls: {
      key: readPem(raw.openflowKey!, 'openflow-key', 'PRIVATE KEY'),
      cert: readPem(raw.openflowCert!, 'openflow-cert', 'CERTIFICATE'),
      ca: readPem(raw.openflowCa!, 'openflow-ca', 'CERTIFICATE'),
    },
    switchSsl: anySwitch
      ? {
          privateKey: switchFile(raw.switchKey!, 'switch-key'),
          certificate: switchFile(raw.switchCert!, 'switch-cert'),
          caCert: switchFile(raw.switchCa!, 'switch-ca'),
        }
      : null,
  };
}

/** A network namespace name (a file under /var/run/netns). */
const NETNS_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function metadataOption(raw: RawAgentOptions, bridge: string): AgentConfig['metadata'] {
  if (raw.metadata === false) {
    if (raw.metadataNetns !== undefined) throw new AgentConfigError('metadata-netns', 'given with --no-metadata');
    return null;
  }
  const netns = raw.metadataNetns ?? `vnet-meta-${bridge}`;
  if (!NETNS_NAME.test(netns) || netns === '.' || netns === '..')
    throw new AgentConfigError('metadata-netns', `'${netns}' is not a namespace name (1-64 of A-Z a-z 0-9 _ . -)`);
  return { netns };
}

/** Apply defaults and validate every option; throws AgentConfigError naming the first bad one. */
export function parseAgentOptions(raw: RawAgentOptions): AgentConfig {
  const servers = (raw.server ?? DEFAULT_SERVER)
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter((s) => s !== '');
  if (servers.length === 0) throw new AgentConfigError('server', 'names no server');
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new AgentConfigError('server', `'${server}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new AgentConfigError('server', `'${server}' must be an http:// or https:// URL`);
  }
  const server = servers[0]!;

  if (raw.enrollToken !== undefined && raw.tokenFile === undefined)
    throw new AgentConfigError('enroll-token', 'needs --token-file (where the agent token it is traded for is kept)');

  const nodeId = raw.nodeId ?? hostname();
  if (nodeId.length === 0 || nodeId.length > 255) throw new AgentConfigError('node-id', 'must be 1..255 characters');

  const bridge = raw.bridge ?? 'br0';
  if (!BRIDGE_NAME.test(bridge))
    throw new AgentConfigError('bridge', `'${bridge}' is not a valid bridge name (1..15 of A-Z a-z 0-9 _ . -)`);

  const ovsdb = parseOvsdbRemote(raw.ovsdb ?? DEFAULT_OVSDB);
  const listenRaw = raw.listen ?? DEFAULT_LISTEN;
  const listen = parseListen(listenRaw.replace(/^(?:tcp|ssl):/, ''));

  let tunnelIp: string | null = null;
  if (raw.tunnelIp !== undefined) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(raw.tunnelIp))
      throw new AgentConfigError('tunnel-ip', `'${raw.tunnelIp}' is not an IPv4 address`);
    tunnelIp = raw.tunnelIp;
  }

  const encap = raw.encap ?? 'gre';
  if (encap !== 'gre' && encap !== 'vxlan') throw new AgentConfigError('encap', `'${encap}' is not one of gre, vxlan`);

  const mtuRaw = raw.underlayMtu ?? 1500;
  const underlayMtu = typeof mtuRaw === 'number' ? mtuRaw : /^\d+$/.test(mtuRaw) ? Number(mtuRaw) : Number.NaN;
  // 576 is the IPv4 minimum reassembly size; 65535 the largest IPv4 packet.
  if (!Number.isInteger(underlayMtu) || underlayMtu < 576 || underlayMtu > 65535)
    throw new AgentConfigError('underlay-mtu', `'${mtuRaw}' is not an integer in 576..65535`);

  // Without the kernel module only the userspace datapath works (DESIGN.md, machine facts).
  const datapathType = raw.datapathType ?? (existsSync('/sys/module/openvswitch') ? 'system' : 'netdev');
  if (datapathType !== 'netdev' && datapathType !== 'system')
    throw new AgentConfigError('datapath-type', `'${datapathType}' is not one of netdev, system`);

  return {
    server,
    servers,
    nodeId,
    bridge,
    ovsdb,
    listen,
    switchSocket: switchSocket(raw, ovsdb, bridge, listenRaw.startsWith('ssl:')),
    ...openflowTls(listenRaw.startsWith('ssl:'), raw),
    tunnelIp,
    encap,
    underlayMtu,
    createBridge: raw.createBridge ?? false,
    datapathType,
    register: raw.register ?? false,
    tokenFile: raw.tokenFile ?? null,
    enrollToken: raw.enrollToken?.trim() || null,
    ca: raw.caFile === undefined ? null : readPem(raw.caFile, 'ca-file', 'CERTIFICATE'),
    ovsdbTls: ovsdbTls(ovsdb, raw),
    metricsListen: raw.metricsListen === undefined ? null : parseListen(raw.metricsListen, 'metrics-listen'),
    vswitchdCtl: raw.vswitchdCtl ?? null,
    snatPorts: raw.snatPorts === undefined ? null : parsePortRange(raw.snatPorts, 'snat-ports'),
    metadata: metadataOption(raw, bridge),
  };
}

/** `MIN-MAX`, two ports 1..65535 with MIN ≤ MAX. */
function parsePortRange(raw: string, option: string): { min: number; max: number } {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(raw.trim());
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max)
    throw new AgentConfigError(option, `'${raw}' is not a port range MIN-MAX within 1..65535`);
  return { min, max };
}
