// docs/api.md's per-resource parameter lists, rendered from the declarations (test/model/api-docs.test.ts keeps the
// doc equal to them; `node --import tsx scripts/gen-api-docs.mjs` rewrites it).
import type { ParamSpec, ParamType } from '../params.js';
import { type Declared, immutableOf, paramsFor } from '../resource.js';
import { UUID_PREFIX } from '../types.js';
import { DECLARATIONS, PRIVATE_DECLARATIONS } from './index.js';

/** The markers around the generated block in docs/api.md. */
export const API_PARAMS_BEGIN = '<!-- params:begin -->';
export const API_PARAMS_END = '<!-- params:end -->';

/** How a parameter's type reads in the doc: `dp-uuid`, `int 1..32`, `virtual\|physical`, `ipv4`. */
function typeText(t: ParamType): string {
  switch (t.t) {
    case 'uuid':
      return `${t.prefix}-uuid`;
    case 'int':
      return `int ${t.min}..${t.max}`;
    case 'enum':
      return t.values.join('\\|');
    case 'records': {
      const fields = Object.entries(t.item).map(([n, ft]) => `${n} ${typeText(ft)}`);
      return `list of {${fields.join(', ')}}, at most ${t.max}, unique ${t.key.join('+')}`;
    }
    default:
      return t.t;
  }
}

const paramText = (p: ParamSpec) =>
  `\`${p.name}\`${p.required ? ' **(req)**' : ''} ${typeText(p.type)}${p.nullable ? ', nullable' : ''}`;
const names = (list: readonly string[]) => list.map((n) => `\`${n}\``).join(', ');

/** One resource's section: POST and PUT parameters, the fields a PUT may not name, the list filters. */
export function resourceParamsMarkdown(decl: Declared): string {
  const put = paramsFor(decl.fields, 'update');
  const filters = paramsFor(decl.fields, 'filter');
  return [
    `### ${decl.kind} (\`${decl.prefix}-\`)`,
    '',
    `- POST: ${paramsFor(decl.fields, 'create').map(paramText).join('; ') || '— (written by the server)'}`,
    `- PUT: ${put.length ? put.map(paramText).join('; ') : '—'}`,
    ...(immutableOf(decl.fields).length
      ? [`- immutable (PUT → 400 code 121): ${names(immutableOf(decl.fields))}`]
      : []),
    ...(filters.length ? [`- list filters: ${names(filters.map((p) => p.name))}`] : []),
  ].join('\n');
}

/** Every resource with endpoints of its own (a uuid prefix; not the datapath relation rows), in API order. */
export function apiParamsMarkdown(): string {
  return [
    ...Object.keys(UUID_PREFIX).map((kind) => DECLARATIONS[kind as keyof typeof UUID_PREFIX] as Declared),
    ...Object.values(PRIVATE_DECLARATIONS),
  ]
    .map(resourceParamsMarkdown)
    .join('\n\n');
}

/** `doc` with the block between the markers replaced by the generated one (throws when the markers are missing). */
export function withApiParams(doc: string): string {
  const begin = doc.indexOf(API_PARAMS_BEGIN);
  const end = doc.indexOf(API_PARAMS_END);
  if (begin < 0 || end < begin) throw new Error(`docs/api.md lacks ${API_PARAMS_BEGIN} … ${API_PARAMS_END}`);
  return `${doc.slice(0, begin + API_PARAMS_BEGIN.length)}\n${apiParamsMarkdown()}\n${doc.slice(end)}`;
}
