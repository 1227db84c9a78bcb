// vnctl's command-line parser: argv → the API requests to make (pure; no I/O), per OpenVNet's vnctl forms.
import { UsageError } from './errors.js';
import {
  type ActionSpec,
  entryName,
  findAction,
  findRelation,
  findResource,
  findVerb,
  normalizeName,
  type OptionSpec,
  type RelationSpec,
  type ResourceSpec,
  type Verb,
} from './spec.js';
import { LIST_OPTIONS, RESOURCES, TRACE_OPTIONS } from './table.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One call, path relative to `/api/1.0`. POST/PUT send `body` as JSON; GET/DELETE send `query`. */
export interface ApiRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
}

export type OutputFormat = 'table' | 'yaml' | 'json';

export interface GlobalOptions {
  /** `--api`, when given (env and default are resolved by the caller). */
  readonly api?: string;
  /** `--output`/`-o`, when given (else: a table on a terminal, OpenVNet's YAML otherwise; see main.ts). */
  readonly output?: OutputFormat;
  /** `--timeout` in seconds. */
  readonly timeoutSeconds?: number;
  /** `--token`, when given (env VNET_TOKEN / VNET_TOKEN_FILE are resolved by the caller). */
  readonly token?: string;
  /** `--ca-file`, when given (env VNET_CA_FILE is resolved by the caller). */
  readonly caFile?: string;
}

/**
 * How the replies combine into what is printed: `body` prints the one reply, `objects` prints the
 * replies of `show UUID…` together, `deleted` concatenates the uuid arrays DELETE returns.
 */
export type ResultShape = 'body' | 'objects' | 'deleted' | 'trace' | 'trace_flows';

export interface HelpTopic {
  readonly trace?: boolean;
  readonly resource?: ResourceSpec;
  readonly relation?: RelationSpec;
}

export type Invocation =
  | { readonly kind: 'help'; readonly globals: GlobalOptions; readonly topic: HelpTopic; readonly requested: boolean }
  /** `vnctl batch [FILE]`: run FILE's lines (stdin without FILE or with `-`) with these globals. */
  | { readonly kind: 'batch'; readonly globals: GlobalOptions; readonly file: string | undefined }
  | { readonly kind: 'version'; readonly globals: GlobalOptions }
  | {
      readonly kind: 'call';
      readonly globals: GlobalOptions;
      readonly requests: readonly ApiRequest[];
      readonly shape: ResultShape;
      /** Key columns for a human table of the result. */
      readonly columns: readonly string[];
    };

/** Where the command words led: what the options mean and how the positionals are used. */
type Context =
  | {
      readonly kind: 'verb';
      readonly resource: ResourceSpec;
      readonly verb: Verb;
      readonly options: readonly OptionSpec[];
    }
  | {
      readonly kind: 'relation';
      readonly resource: ResourceSpec;
      readonly relation: RelationSpec;
      readonly verb: Verb;
      readonly options: readonly OptionSpec[];
      /** OpenVNet's `vnctl ip_lease_containers ip_leases ILC`: a list-only relation's `show` left unsaid. */
      readonly impliedShow?: true;
    }
  | {
      readonly kind: 'action';
      readonly resource: ResourceSpec;
      readonly action: ActionSpec;
      readonly options: readonly OptionSpec[];
    }
  /** `vnctl trace IF …`: a command of its own, not a resource's verb. */
  | { readonly kind: 'trace'; readonly options: readonly OptionSpec[] };

const GLOBAL_NAMES = new Set(['api', 'output', 'timeout', 'token', 'ca_file', 'help', 'version']);
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** `true`/`false` (and yes/no/on/off/1/0), or undefined when the word is no boolean. */
export function parseBoolean(word: string): boolean | undefined {
  const w = word.toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

function parseOutput(raw: string): OutputFormat {
  const v = raw.toLowerCase();
  if (v === 'table' || v === 'json' || v === 'yaml') return v;
  if (v === 'yml') return 'yaml';
  throw new UsageError(`--output: expected table, yaml or json, got "${raw}"`);
}

const verbList = (r: RelationSpec): string =>
  (['add', 'show', 'modify', 'del'] as const)
    .filter((v) => (v === 'show' ? r.show === true : r[v] !== undefined))
    .join('|');

/** The options a verb accepts on a relation, or a usage error when the relation lacks that verb. */
function relationOptions(resource: ResourceSpec, relation: RelationSpec, verb: Verb): readonly OptionSpec[] {
  const missing = () =>
    new UsageError(`${resource.name} ${relation.name} has no '${verb}' (it has: ${verbList(relation) || 'none'})`);
  switch (verb) {
    case 'add':
      if (!relation.add) throw missing();
      return relation.add.options;
    case 'show':
      if (!relation.show) throw missing();
      return LIST_OPTIONS;
    case 'modify':
      if (!relation.modify) throw missing();
      return relation.modify.options;
    case 'del':
      if (!relation.del) throw missing();
      return relation.del.options;
  }
}

function verbOptions(resource: ResourceSpec, verb: Verb): readonly OptionSpec[] {
  switch (verb) {
    case 'add':
      return resource.add;
    case 'show':
      return [...LIST_OPTIONS, ...resource.filters];
    case 'modify':
      return resource.modify;
    case 'del':
      return [];
  }
}

/** Number of leading positionals that are command words, once they resolve. */
const commandWords = (ctx: Context): number =>
  ctx.kind === 'relation' ? (ctx.impliedShow ? 2 : 3) : ctx.kind === 'trace' ? 1 : 2;

/** A relation that can only be listed: OpenVNet's vnctl has it as a command of its own (`ip_leases ILC`). */
const listOnly = (r: RelationSpec): boolean => r.show === true && !r.add && !r.del && !r.modify;

/**
 * Resolves the command words at the head of `words`. Returns undefined while they are incomplete
 * (so a caller that sees an option early can say so), throws on words that cannot be right.
 */
function resolveContext(table: readonly ResourceSpec[], words: readonly string[]): Context | undefined {
  const [first, second, third] = words;
  if (first === undefined) return undefined;
  if (normalizeName(first) === 'trace') return { kind: 'trace', options: TRACE_OPTIONS };
  const resource = findResource(table, first);
  if (!resource) throw new UsageError(`unknown resource '${first}' (see vnctl --help)`);
  if (second === undefined) return undefined;
  const verb = findVerb(second);
  if (verb) return { kind: 'verb', resource, verb, options: verbOptions(resource, verb) };
  const action = findAction(resource, second);
  if (action) return { kind: 'action', resource, action, options: action.options };
  const relation = findRelation(resource, second);
  if (!relation) {
    const others = [...resource.actions.map((a) => a.name), ...resource.relations.map((r) => r.name)];
    throw new UsageError(
      `unknown verb or relation '${second}' for ${resource.name} (expected add|show|modify|del${others.length ? `|${others.join('|')}` : ''})`,
    );
  }
  if (third === undefined) return undefined;
  const relVerb = findVerb(third);
  if (!relVerb && listOnly(relation))
    return { kind: 'relation', resource, relation, verb: 'show', options: LIST_OPTIONS, impliedShow: true };
  if (!relVerb)
    throw new UsageError(
      `unknown verb '${third}' for ${resource.name} ${relation.name} (expected ${verbList(relation)})`,
    );
  return { kind: 'relation', resource, relation, verb: relVerb, options: relationOptions(resource, relation, relVerb) };
}

/** Best-effort help topic from whatever command words were given (help must work on broken lines). */
function helpTopic(table: readonly ResourceSpec[], words: readonly string[]): HelpTopic {
  if (words[0] !== undefined && normalizeName(words[0]) === 'trace') return { trace: true };
  const resource = words[0] === undefined ? undefined : findResource(table, words[0]);
  if (!resource) return {};
  const relation = words[1] === undefined ? undefined : findRelation(resource, words[1]);
  return relation ? { resource, relation } : { resource };
}

/** `--host-routes TEXT`: the list as JSON ('' is an empty list); the server checks the entries. */
function listOf(flag: string, text: string): unknown[] {
  if (text.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: expected a JSON list, got "${text}"`);
  }
  if (!Array.isArray(v)) throw new UsageError(`${flag}: expected a JSON list, got "${text}"`);
  return v;
}

/** `--host-route A,B`: one entry, its fields in declared order. */
function entryOf(spec: OptionSpec, flag: string, text: string): Record<string, string> {
  const fields = spec.item ?? [];
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length !== fields.length || parts.some((p) => p === ''))
    throw new UsageError(`${flag}: expected ${fields.map((f) => f.toUpperCase()).join(',')}, got "${text}"`);
  return Object.fromEntries(fields.map((f, i) => [f, parts[i]!]));
}

/** Converts an option's text to the request value its declared type asks for. */
function convert(spec: OptionSpec, flag: string, text: string): unknown {
  if (spec.type === 'integer') {
    // `--mtu=` clears an optional number: the API reads an empty value as null where null is allowed.
    if (text === '') return '';
    if (!/^[+-]?\d+$/.test(text.trim())) throw new UsageError(`${flag}: expected an integer, got "${text}"`);
    const n = Number(text.trim());
    if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: integer out of range: ${text}`);
    return n;
  }
  if (spec.type === 'boolean') {
    const v = parseBoolean(text);
    if (v === undefined) throw new UsageError(`${flag}: expected true or false, got "${text}"`);
    return v;
  }
  return text;
}

const enc = encodeURIComponent;

function stringQuery(params: ReadonlyMap<string, unknown>): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of params) q[k] = String(v);
  return q;
}

/** Builds the requests for a resolved command. `rest` = positionals after the command words. */
function buildCall(
  ctx: Context,
  rest: readonly string[],
  params: ReadonlyMap<string, unknown>,
  globals: GlobalOptions,
): Invocation {
  if (ctx.kind === 'trace') return traceCall(rest, params, globals);
  const body = Object.fromEntries(params);
  const query = stringQuery(params);
  const base = `/${ctx.resource.name}`;
  const call = (requests: ApiRequest[], shape: ResultShape, columns: readonly string[]): Invocation => ({
    kind: 'call',
    globals,
    requests,
    shape,
    columns,
  });
  const expect = (what: string, min: number, max: number): void => {
    if (rest.length < min) throw new UsageError(`missing ${what}`);
    if (rest.length > max) throw new UsageError(`unexpected argument '${rest[max]}'`);
  };
  for (const word of rest) {
    if (word === '') throw new UsageError('empty uuid argument');
    // URL parsers resolve these (even percent-encoded), which would address another endpoint.
    if (word === '.' || word === '..') throw new UsageError(`'${word}' is not a uuid`);
  }

  if (ctx.kind === 'action') {
    expect(`the ${ctx.resource.singular} uuid`, 1, 1);
    return call(
      [{ method: ctx.action.method, path: `${base}/${enc(rest[0]!)}/${ctx.action.name}`, query: {}, body }],
      'body',
      ctx.resource.columns,
    );
  }

  if (ctx.kind === 'verb') {
    const cols = ctx.resource.columns;
    switch (ctx.verb) {
      case 'add':
        expect('', 0, 0);
        return call([{ method: 'POST', path: base, query: {}, body }], 'body', cols);
      case 'show':
        if (rest.length === 0) return call([{ method: 'GET', path: base, query }], 'body', cols);
        return call(
          rest.map((u) => ({ method: 'GET', path: `${base}/${enc(u)}`, query })),
          rest.length === 1 ? 'body' : 'objects',
          cols,
        );
      case 'modify':
        expect(`the ${ctx.resource.singular} uuid to modify`, 1, 1);
        return call([{ method: 'PUT', path: `${base}/${enc(rest[0]!)}`, query: {}, body }], 'body', cols);
      case 'del':
        expect(`the ${ctx.resource.singular} uuid(s) to delete`, 1, Number.POSITIVE_INFINITY);
        return call(
          rest.map((u) => ({ method: 'DELETE', path: `${base}/${enc(u)}`, query })),
          'deleted',
          cols,
        );
    }
  }

  const rel = ctx.relation;
  const owner = `the ${ctx.resource.singular} uuid`;
  const item = rel.item ?? 'ITEM';
  const cols = rel.columns;
  const relPath = (b: string) => `${base}/${enc(b)}/${rel.name}`;
  switch (ctx.verb) {
    case 'add': {
      const add = rel.add!;
      if (add.target === 'path') {
        expect(rest.length === 0 ? owner : `the ${item} uuid`, 2, 2);
        return call(
          [{ method: add.method, path: `${relPath(rest[0]!)}/${enc(rest[1]!)}`, query: {}, body }],
          'body',
          cols,
        );
      }
      expect(owner, 1, 1);
      return call([{ method: add.method, path: relPath(rest[0]!), query: {}, body }], 'body', cols);
    }
    case 'show':
      expect(owner, 1, rel.item && rel.showItem !== false ? 2 : 1);
      return call(
        [
          {
            method: 'GET',
            path: rest[1] === undefined ? relPath(rest[0]!) : `${relPath(rest[0]!)}/${enc(rest[1])}`,
            query,
          },
        ],
        'body',
        cols,
      );
    case 'modify':
      expect(rest.length === 0 ? owner : `the ${item} uuid`, 2, 2);
      return call([{ method: 'PUT', path: `${relPath(rest[0]!)}/${enc(rest[1]!)}`, query: {}, body }], 'body', cols);
    case 'del': {
      const del = rel.del!;
      if (del.target === 'params') {
        expect(owner, 1, 1);
        return call([{ method: 'DELETE', path: relPath(rest[0]!), query }], 'body', cols);
      }
      expect(rest.length === 0 ? owner : `the ${item} uuid(s) to delete`, 2, Number.POSITIVE_INFINITY);
      const b = rest[0]!;
      return call(
        rest.slice(1).map((u) => ({ method: 'DELETE', path: `${relPath(b)}/${enc(u)}`, query })),
        'deleted',
        cols,
      );
    }
  }
}

/**
 * Parses vnctl's argv (without `node` and the script). Options may be spelled `--a-b` or `--a_b`,
 * given as `--opt value` or `--opt=value`; declared booleans stand alone (`--flag`) or take
 * `true|false`. Undeclared options are still sent (a string, or `true` when bare) so that the
 * server names them in its 400.
 */
export function parseArgs(argv: readonly string[], table: readonly ResourceSpec[] = RESOURCES): Invocation {
  let api: string | undefined;
  let output: OutputFormat | undefined;
  let timeoutSeconds: number | undefined;
  let apiToken: string | undefined;
  let caFile: string | undefined;
  // Help wins over anything else wrong on the line, wherever it stands (before a lone `--`).
  const end = argv.indexOf('--');
  let help = (end < 0 ? argv : argv.slice(0, end)).some((t) => t === '-h' || t.toLowerCase() === '--help');
  let version = false;
  const positionals: string[] = [];
  const params = new Map<string, unknown>();
  let ctx: Context | undefined;
  let dashDash = false;

  const globals = (): GlobalOptions => ({
    ...(output !== undefined ? { output } : {}),
    ...(api !== undefined ? { api } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(apiToken !== undefined ? { token: apiToken } : {}),
    ...(caFile !== undefined ? { caFile } : {}),
  });

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (help && token.startsWith('-') && !dashDash) continue;
    if (dashDash || !token.startsWith('-') || token === '-') {
      positionals.push(token);
      continue;
    }
    if (token === '--') {
      dashDash = true;
      continue;
    }
    if (token === '-h') {
      help = true;
      continue;
    }
    if (token === '-o') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('-o needs a value (table, yaml or json)');
      output = parseOutput(v);
      continue;
    }
    if (!token.startsWith('--')) throw new UsageError(`unknown option '${token}'`);

    const eq = token.indexOf('=');
    const rawName = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const name = normalizeName(rawName);
    const flag = `--${rawName}`;
    if (name === '' || !/^[a-z0-9_]+$/.test(name)) throw new UsageError(`bad option name '${token}'`);
    const next = argv[i + 1];
    // A value may not look like an option: `--display-name --mode x` is a missing value, not "--mode".
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      i++;
      return next;
    };

    if (GLOBAL_NAMES.has(name)) {
      if (name === 'help') help = true;
      else if (name === 'version') version = true;
      else if (name === 'api') api = takeValue();
      else if (name === 'token') apiToken = takeValue();
      else if (name === 'ca_file') caFile = takeValue();
      else if (name === 'output') output = parseOutput(takeValue());
      else {
        const t = takeValue();
        const n = Number(t);
        if (!(n > 0 && n <= 3600))
          throw new UsageError(`--timeout: expected seconds, more than 0 and at most 3600, got "${t}"`);
        timeoutSeconds = n;
      }
      continue;
    }

    if (positionals[0] === 'batch') {
      if (help) continue;
      throw new UsageError(`batch takes only global options, not ${flag}`);
    }
    if (!ctx) {
      try {
        ctx = resolveContext(table, positionals);
      } catch (e) {
        if (help) continue;
        throw e;
      }
      if (!ctx) {
        if (help) continue;
        throw new UsageError(
          `option ${flag} given before the command is complete (vnctl <resource> <verb> … --options)`,
        );
      }
    }
    const spec = ctx.options.find((o) => o.name === name || entryName(o) === name);
    // Thor's negation, as OpenVNet's vnctl takes it: `--no-enable-filtering` is `--enable-filtering false`.
    const negated = spec ? undefined : ctx.options.find((o) => o.type === 'boolean' && `no_${o.name}` === name);
    if (negated && inline === undefined) {
      params.set(negated.name, false);
    } else if (spec?.type === 'array') {
      const whole = spec.name === name;
      const text = takeValue();
      const entries = whole ? listOf(flag, text) : [entryOf(spec, flag, text)];
      const before = params.get(spec.name);
      params.set(spec.name, [...(Array.isArray(before) ? before : []), ...entries]);
    } else if (spec?.type === 'boolean') {
      if (inline !== undefined) params.set(name, convert(spec, flag, inline));
      else if (next !== undefined && parseBoolean(next) !== undefined) {
        params.set(name, parseBoolean(next));
        i++;
      } else params.set(name, true);
    } else if (spec) {
      params.set(name, convert(spec, flag, takeValue()));
    } else if (inline !== undefined) {
      params.set(name, inline);
    } else if (next !== undefined && !next.startsWith('--')) {
      params.set(name, next);
      i++;
    } else {
      params.set(name, true);
    }
  }

  if (positionals[0] !== undefined && normalizeName(positionals[0]) === 'help') {
    return { kind: 'help', globals: globals(), topic: helpTopic(table, positionals.slice(1)), requested: true };
  }
  if (help) return { kind: 'help', globals: globals(), topic: helpTopic(table, positionals), requested: true };
  if (version) return { kind: 'version', globals: globals() };
  if (positionals.length === 0) return { kind: 'help', globals: globals(), topic: {}, requested: false };

  if (positionals[0] === 'batch') {
    if (positionals.length > 2) throw new UsageError(`unexpected argument '${positionals[2]}' (vnctl batch [FILE])`);
    return { kind: 'batch', globals: globals(), file: positionals[1] === '-' ? undefined : positionals[1] };
  }
  ctx ??= resolveContext(table, positionals);
  if (!ctx) {
    const r = findResource(table, positionals[0]!)!;
    if (positionals.length === 1)
      throw new UsageError(`missing verb: vnctl ${r.name} add|show|modify|del … (see vnctl ${r.name} --help)`);
    throw new UsageError(
      `missing verb: vnctl ${r.name} ${normalizeName(positionals[1]!)} <verb> … (see vnctl ${r.name} --help)`,
    );
  }
  return buildCall(ctx, positionals.slice(commandWords(ctx)), params, globals());
}

/** `vnctl trace IF --dst … [--flows]` → POST /traces; `--flows` only changes how the answer is printed. */
function traceCall(rest: readonly string[], params: ReadonlyMap<string, unknown>, globals: GlobalOptions): Invocation {
  if (rest.length < 1)
    throw new UsageError(
      "missing where the packet comes from: an interface uuid, or the VM's MAC or address (vnctl trace IF --dst ADDR)",
    );
  if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}'`);
  const { flows, ...body } = Object.fromEntries(params);
  // The packet's source: an interface uuid, or the VM's MAC or address (the server finds its interface).
  const src = rest[0]!;
  const key = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(src)
    ? 'src_mac'
    : /^\d{1,3}(\.\d{1,3}){3}$/.test(src)
      ? 'src_ip'
      : 'interface_uuid';
  return {
    kind: 'call',
    globals,
    requests: [{ method: 'POST', path: '/traces', query: {}, body: { [key]: src, ...body } }],
    shape: flows === true ? 'trace_flows' : 'trace',
    columns: [],
  };
}
