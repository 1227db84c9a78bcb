// OpenVNet's vnctl configuration (a Fuguta file: one `key value` a line), read so that machines set up for
// OpenVNet's vnctl keep their API address and output format: `webapi_uri`, `webapi_port`, `webapi_protocol`
// and `output_format` (yml or json). The first file of OpenVNet's search order that exists is used.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.js';
import type { OutputFormat } from './parse.js';

export interface OpenVNetConf {
  path: string;
  /** http(s)://HOST:PORT from webapi_protocol/uri/port, when the file names a host or port. */
  api?: string;
  output?: OutputFormat;
}

/** OpenVNet's search order (its bin/vnctl); `VNCTL_CONF` names one file instead (vnet's addition, for tests). */
export function confPaths(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.VNCTL_CONF) return [env.VNCTL_CONF];
  const home = env.HOME ?? '';
  return [
    ...(home ? [join(home, '.vnctlrc'), join(home, '.vnctl.conf')] : []),
    '/etc/openvnet/vnctl.conf',
    '/etc/wakame-vnet/vnctl.conf',
  ];
}

/** `key 'value'`, `key "value"`, `key value` or `key = value`; `#` comments. */
function parseLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^([a-z_]+)\s*(?:=\s*)?(?:'([^']*)'|"([^"]*)"|(\S+))$/.exec(line);
    if (m) out.set(m[1]!, m[2] ?? m[3] ?? m[4]!);
  }
  return out;
}

export function readOpenVNetConf(env: Readonly<Record<string, string | undefined>>): OpenVNetConf | null {
  const path = confPaths(env).find((p) => existsSync(p));
  if (!path) return null;
  let kv: Map<string, string>;
  try {
    kv = parseLines(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const conf: OpenVNetConf = { path };
  const uri = kv.get('webapi_uri');
  const port = kv.get('webapi_port');
  if (uri !== undefined || port !== undefined)
    conf.api = `${kv.get('webapi_protocol') ?? 'http'}://${uri ?? '127.0.0.1'}:${port ?? '9090'}`;
  const format = kv.get('output_format')?.toLowerCase();
  if (format === 'yml' || format === 'yaml') conf.output = 'yaml';
  else if (format === 'json') conf.output = 'json';
  else if (format !== undefined) throw new UsageError(`${path}: output_format: expected yml or json, got "${format}"`);
  return conf;
}
