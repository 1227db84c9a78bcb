// `vnet server` configuration: flags override environment, which overrides the config file, then defaults.
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { DEFAULT_PRESENCE_GRACE_MS } from './agent-presence.js';
import { FEED_DEFAULTS } from './feed.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** A SQLite file (or ':memory:'), or a postgres:// URL several servers share. */
  db: string;
  retainChanges: number;
  heartbeatMs: number;
  /** Change streams one server serves at most (every agent holds one; 429 beyond). */
  maxWatchers: number;
  /** Feed snapshots one server sends at most at once (503 with Retry-After beyond). */
  maxSnapshotsInFlight: number;
  /** How long an agent's last feed stream may stay closed before its datapaths show disconnected (ms). */
  presenceGraceMs: number;
  /** Require tokens even on a loopback-only listener. */
  requireAuth: boolean;
  /** Serve without tokens on any address (never the default). */
  insecure: boolean;
  /** Where the first admin token is written when tokens are required (default: next to the database). */
  adminTokenFile: string | null;
  /** Host header names served besides loopback ones. */
  allowedHosts: string[];
  /** Serve HTTPS: with tlsCert/tlsKey, or a self-signed pair generated next to the database. */
  tls: boolean;
  tlsCert: string | null;
  tlsKey: string | null;
  /** The minimal Keystone's users on the Neutron listener (YAML; src/server/neutron/keystone.ts). */
  keystoneUsers: string | null;
  /** Audit entries older than this many days are pruned (0: kept whatever their age). */
  auditRetainDays: number;
  /** At most this many audit entries are kept, the newest (0: no bound). */
  auditRetainEntries: number;
}

export const DEFAULT_CONFIG_FILE = '/etc/vnet/server.yaml';
export const DEFAULTS: ServerConfig = {
  host: '127.0.0.1',
  port: 9090,
  db: '/var/lib/vnet/vnet.db',
  retainChanges: 100_000,
  heartbeatMs: 15_000,
  maxWatchers: FEED_DEFAULTS.maxWatchers,
  maxSnapshotsInFlight: FEED_DEFAULTS.maxSnapshotsInFlight,
  presenceGraceMs: DEFAULT_PRESENCE_GRACE_MS,
  requireAuth: false,
  insecure: false,
  adminTokenFile: null,
  allowedHosts: [],
  tls: false,
  tlsCert: null,
  tlsKey: null,
  keystoneUsers: null,
  auditRetainDays: 90,
  auditRetainEntries: 1_000_000,
};

export class ConfigError extends Error {
  readonly code = 'VNET_CONFIG';
}

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) throw new ConfigError(`listen: '${s}' is not HOST:PORT`);
  return { host: m[1] || m[2] || DEFAULTS.host, port };
}

function nonNegative(name: string, v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name}: not an integer >= 0`);
  return n;
}

function positive(name: string, v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(`${name}: not a positive integer`);
  return n;
}

const FILE_KEYS = [
  'listen',
  'db',
  'retain_changes',
  'heartbeat_ms',
  'max_watchers',
  'max_snapshots_in_flight',
  'presence_grace_ms',
  'require_auth',
  'insecure',
  'admin_token_file',
  'allowed_hosts',
  'tls',
  'tls_cert',
  'tls_key',
  'keystone_users',
  'audit_retain_days',
  'audit_retain_entries',
];

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${name}: not true or false`);
  return v;
}

function hostList(name: string, v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
  const out = list.map((h) => h.trim()).filter(Boolean);
  for (const h of out)
    if (!/^[A-Za-z0-9.[\]:-]{1,253}$/.test(h)) throw new ConfigError(`${name}: '${h}' is not a host name`);
  return out;
}

export interface ConfigSources {
  flags: {
    listen?: string;
    db?: string;
    config?: string;
    retainChanges?: string;
    requireAuth?: boolean;
    insecure?: boolean;
    adminTokenFile?: string;
    allowedHost?: string[];
    tls?: boolean;
    tlsCert?: string;
    tlsKey?: string;
    keystoneUsers?: string;
    auditRetainDays?: string;
    auditRetainEntries?: string;
  };
  env: NodeJS.ProcessEnv;
}

export function resolveConfig({ flags, env }: ConfigSources): ServerConfig {
  const cfg: ServerConfig = { ...DEFAULTS };
  const file = flags.config ?? env.VNET_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) {
    let parsed: unknown;
    try {
      parsed = YAML.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        throw new ConfigError(`config file ${file}: not a mapping`);
      const o = parsed as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (!FILE_KEYS.includes(k)) throw new ConfigError(`config file ${file}: unknown key ${k}`);
      if (o.listen !== undefined) Object.assign(cfg, parseListen(String(o.listen)));
      if (o.db !== undefined) cfg.db = String(o.db);
      if (o.retain_changes !== undefined) cfg.retainChanges = positive('retain_changes', o.retain_changes);
      if (o.heartbeat_ms !== undefined) cfg.heartbeatMs = positive('heartbeat_ms', o.heartbeat_ms);
      if (o.max_watchers !== undefined) cfg.maxWatchers = positive('max_watchers', o.max_watchers);
      if (o.max_snapshots_in_flight !== undefined)
        cfg.maxSnapshotsInFlight = positive('max_snapshots_in_flight', o.max_snapshots_in_flight);
      if (o.presence_grace_ms !== undefined)
        cfg.presenceGraceMs = nonNegative('presence_grace_ms', o.presence_grace_ms);
      if (o.require_auth !== undefined) cfg.requireAuth = bool('require_auth', o.require_auth);
      if (o.insecure !== undefined) cfg.insecure = bool('insecure', o.insecure);
      if (o.admin_token_file !== undefined) cfg.adminTokenFile = String(o.admin_token_file);
      if (o.allowed_hosts !== undefined) cfg.allowedHosts = hostList('allowed_hosts', o.allowed_hosts);
      if (o.tls !== undefined) cfg.tls = bool('tls', o.tls);
      if (o.tls_cert !== undefined) cfg.tlsCert = String(o.tls_cert);
      if (o.tls_key !== undefined) cfg.tlsKey = String(o.tls_key);
      if (o.keystone_users !== undefined) cfg.keystoneUsers = String(o.keystone_users);
      if (o.audit_retain_days !== undefined)
        cfg.auditRetainDays = nonNegative('audit_retain_days', o.audit_retain_days);
      if (o.audit_retain_entries !== undefined)
        cfg.auditRetainEntries = nonNegative('audit_retain_entries', o.audit_retain_entries);
    }
  }
  if (env.VNET_LISTEN) Object.assign(cfg, parseListen(env.VNET_LISTEN));
  if (env.VNET_DB) cfg.db = env.VNET_DB;
  if (env.VNET_RETAIN_CHANGES) cfg.retainChanges = positive('VNET_RETAIN_CHANGES', env.VNET_RETAIN_CHANGES);
  if (flags.listen) Object.assign(cfg, parseListen(flags.listen));
  if (flags.db) cfg.db = flags.db;
  if (flags.retainChanges) cfg.retainChanges = positive('--retain-changes', flags.retainChanges);
  if (env.VNET_ADMIN_TOKEN_FILE) cfg.adminTokenFile = env.VNET_ADMIN_TOKEN_FILE;
  if (flags.requireAuth) cfg.requireAuth = true;
  if (flags.insecure) cfg.insecure = true;
  if (flags.adminTokenFile) cfg.adminTokenFile = flags.adminTokenFile;
  if (flags.allowedHost?.length) cfg.allowedHosts = hostList('--allowed-host', flags.allowedHost.join(','));
  if (flags.tls) cfg.tls = true;
  if (flags.tlsCert) cfg.tlsCert = flags.tlsCert;
  if (flags.tlsKey) cfg.tlsKey = flags.tlsKey;
  if (flags.keystoneUsers) cfg.keystoneUsers = flags.keystoneUsers;
  if (flags.auditRetainDays !== undefined)
    cfg.auditRetainDays = nonNegative('--audit-retain-days', flags.auditRetainDays);
  if (flags.auditRetainEntries !== undefined)
    cfg.auditRetainEntries = nonNegative('--audit-retain-entries', flags.auditRetainEntries);
  if (cfg.tlsCert || cfg.tlsKey) {
    if (!cfg.tlsCert || !cfg.tlsKey) throw new ConfigError('--tls-cert and --tls-key go together');
    cfg.tls = true;
  }
  if (cfg.insecure && cfg.requireAuth) throw new ConfigError('--insecure and --require-auth contradict each other');
  return cfg;
}
