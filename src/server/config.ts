// `vnet server` configuration: flags override environment, which overrides the config file, then defaults.
import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';

export interface ServerConfig {
  host: string;
  port: number;
  db: string;
  retainChanges: number;
  heartbeatMs: number;
}

export const DEFAULT_CONFIG_FILE = '/etc/vnet/server.yaml';
export const DEFAULTS: ServerConfig = {
  host: '127.0.0.1',
  port: 9090,
  db: '/var/lib/vnet/vnet.db',
  retainChanges: 100_000,
  heartbeatMs: 15_000,
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

function positive(name: string, v: unknown): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(`${name}: not a positive integer`);
  return n;
}

export interface ConfigSources {
  flags: { listen?: string; db?: string; config?: string; retainChanges?: string };
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
        if (!['listen', 'db', 'retain_changes', 'heartbeat_ms'].includes(k))
          throw new ConfigError(`config file ${file}: unknown key ${k}`);
      if (o.listen !== undefined) Object.assign(cfg, parseListen(String(o.listen)));
      if (o.db !== undefined) cfg.db = String(o.db);
      if (o.retain_changes !== undefined) cfg.retainChanges = positive('retain_changes', o.retain_changes);
      if (o.heartbeat_ms !== undefined) cfg.heartbeatMs = positive('heartbeat_ms', o.heartbeat_ms);
    }
  }
  if (env.VNET_LISTEN) Object.assign(cfg, parseListen(env.VNET_LISTEN));
  if (env.VNET_DB) cfg.db = env.VNET_DB;
  if (env.VNET_RETAIN_CHANGES) cfg.retainChanges = positive('VNET_RETAIN_CHANGES', env.VNET_RETAIN_CHANGES);
  if (flags.listen) Object.assign(cfg, parseListen(flags.listen));
  if (flags.db) cfg.db = flags.db;
  if (flags.retainChanges) cfg.retainChanges = positive('--retain-changes', flags.retainChanges);
  return cfg;
}
