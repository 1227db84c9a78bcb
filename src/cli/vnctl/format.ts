// vnctl's output: human tables and key/value lines by default, or the API body as YAML or JSON.
import type { TraceResult } from '../../model/trace.js';
import { formatTrace } from './trace-format.js';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { OutputFormat, ResultShape } from './parse.js';

// Loading `yaml` is about half of vnctl's start-up time, so only `-o yaml` pays for it.
const requireCjs = createRequire(import.meta.url);
let yamlStringify: typeof Yaml.stringify | undefined;
function toYaml(value: unknown): string {
  yamlStringify ??= (requireCjs('yaml') as typeof Yaml).stringify;
  return yamlStringify(value);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown): boolean => v === null || v === undefined || typeof v !== 'object';

/**
 * Control characters from API data (a display name with a newline or an ANSI escape) would break
 * the table or drive the terminal: show them escaped.
 */
const escapeControls = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });

/** A value on one line: nested objects as `k=v` pairs, arrays in brackets; null as `-`. */
export function inline(v: unknown, nested = false): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v === '' ? '""' : escapeControls(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return nested ? '[]' : '-';
    const parts = v.map((x) => inline(x, true));
    return nested || v.some((x) => !isScalar(x)) ? `[${parts.join(', ')}]` : parts.join(', ');
  }
  const pairs = Object.entries(v).map(([k, x]) => `${escapeControls(k)}=${inline(x, true)}`);
  return nested ? `{${pairs.join(' ')}}` : pairs.join(' ');
}

/** Aligned columns with an upper-case header row. */
export function renderTable(rows: readonly Obj[], columns: readonly string[]): string {
  const present = columns.filter((c) => rows.some((r) => c in r));
  // Declared columns the server does not send would print as all dashes; fall back to what it does send.
  const cols =
    present.length > 0
      ? present
      : [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => isScalar(r[k]))))].slice(0, 8);
  if (cols.length === 0) return rows.map((r) => inline(r)).join('\n') + (rows.length ? '\n' : '');
  const cells = rows.map((r) => cols.map((c) => inline(r[c])));
  const header = cols.map((c) => escapeControls(c.toUpperCase()));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

/** One `key  value` line per field; arrays of objects get one indented line per element. */
export function renderObject(o: Obj): string {
  const keys = Object.keys(o);
  const labels = keys.map(escapeControls);
  const width = Math.max(0, ...labels.map((k) => k.length));
  const out: string[] = [];
  for (const [i, key] of keys.entries()) {
    const v = o[key];
    const k = labels[i]!;
    if (Array.isArray(v) && v.length > 0 && v.some((x) => !isScalar(x))) {
      out.push(k);
      for (const x of v) out.push(`  - ${inline(x)}`);
    } else out.push(`${k.padEnd(width)}  ${inline(v)}`);
  }
  return out.join('\n') + '\n';
}

/** A list page: `{total_count, offset, limit, items}`. */
function isPage(v: unknown): v is Obj & { items: unknown[] } {
  return isObj(v) && Array.isArray(v.items);
}

function renderHuman(v: unknown, columns: readonly string[]): string {
  if (isPage(v)) {
    const items = v.items;
    const rows = items.filter(isObj);
    let text = rows.length === items.length ? renderTable(rows, columns) : items.map((x) => `${inline(x)}\n`).join('');
    if (items.length === 0) text = '(none)\n';
    const total = typeof v.total_count === 'number' ? v.total_count : undefined;
    const offset = typeof v.offset === 'number' ? v.offset : 0;
    // Say when the page is not everything, so nobody mistakes a page for the whole list.
    if (total !== undefined && (offset > 0 || total > offset + items.length)) {
      text += `(${items.length ? `${offset + 1}-${offset + items.length}` : 'none'} of ${total}; use --offset/--limit)\n`;
    }
    return text;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '(none)\n';
    if (v.every(isObj)) return renderTable(v, columns);
    return v.map((x) => `${inline(x)}\n`).join('');
  }
  if (isObj(v)) return renderObject(v);
  return v === null || v === undefined ? '' : `${inline(v)}\n`;
}

/** Combines the replies of several calls into the value that is printed. */
export function combine(replies: readonly unknown[], shape: ResultShape): unknown {
  if (shape === 'body' || shape === 'trace' || shape === 'trace_flows') return replies[0] ?? null;
  if (shape === 'objects') return replies;
  return replies.flatMap((r) => (Array.isArray(r) ? r : [r]));
}

/** The text to print on stdout for a successful command. */
export function formatResult(
  value: unknown,
  format: OutputFormat,
  shape: ResultShape,
  columns: readonly string[],
): string {
  if (format === 'json') return `${JSON.stringify(value ?? null, null, 2)}\n`;
  if (format === 'yaml') return toYaml(value ?? null);
  if ((shape === 'trace' || shape === 'trace_flows') && isObj(value))
    return formatTrace(value as unknown as TraceResult, shape === 'trace_flows');
  if (shape === 'objects' && Array.isArray(value)) {
    return value.map((v) => (isObj(v) ? renderObject(v) : `${inline(v)}\n`)).join('\n');
  }
  if (shape === 'deleted' && Array.isArray(value)) {
    return value.map((x) => `${inline(x)}\n`).join('');
  }
  return renderHuman(value, columns);
}
