// The table contract (tables.ts) as a check over built flows: a flow matches only its table's fields (with
// their prerequisites), continues only to declared tables, a miss flow matches nothing, ct() has an eth_type,
// and no two flows share an identity. FlowCompiler runs it on every owner it computes outside production, so a
// builder that breaks the contract fails at once in development and tests, not later inside OVS.
import type { Action, Flow, Match } from '../../openflow/types.js';
import { flowKey } from './diff.js';
import { formatFlow } from './format.js';
import { TABLES, tableName } from './tables.js';

/** A built flow breaks the table contract: a bug in a flow builder, never bad model data. */
export class PipelineContractError extends Error {
  override name = 'PipelineContractError';
}

/** Whether FlowCompiler checks the flows it builds unless told otherwise: everywhere but production. */
export function contractCheckedByDefault(): boolean {
  return process.env.NODE_ENV !== 'production';
}

/** Tables an action list continues in (resubmit, ct(table)); only a resubmit may re-enter an earlier table. */
function actionTargets(actions: readonly Action[]): { table: number; reentry: boolean }[] {
  const out: { table: number; reentry: boolean }[] = [];
  for (const a of actions) {
    if (a.type === 'resubmit' && a.table !== undefined) out.push({ table: a.table, reentry: true });
    if (a.type === 'ct' && a.table !== undefined) out.push({ table: a.table, reentry: false });
  }
  return out;
}

const PREREQ: [RegExp, (m: Match) => boolean, string][] = [
  [/^ipv4_|^ip_proto$/, (m) => m.eth_type?.value === 0x0800, 'eth_type=0x0800'],
  [/^arp_/, (m) => m.eth_type?.value === 0x0806, 'eth_type=0x0806'],
  [/^tcp_/, (m) => m.ip_proto?.value === 6, 'ip_proto=6'],
  [/^udp_/, (m) => m.ip_proto?.value === 17, 'ip_proto=17'],
  [/^icmpv4_/, (m) => m.ip_proto?.value === 1, 'ip_proto=1'],
];

/**
 * Throws PipelineContractError naming the table, the flow (and `owner`, when given) of the first flow that
 * breaks the contract. Duplicates are found among `flows` only: pass the whole set to check across owners.
 */
export function checkFlows(flows: readonly Flow[], owner?: string): void {
  const keys = new Set<string>();
  for (const f of flows) {
    const by = owner ? ` (owner ${owner})` : '';
    const spec = TABLES[f.table];
    if (!spec) throw new PipelineContractError(`flow in unknown table ${f.table}${by}; flow: ${formatFlow(f)}`);
    const fail = (problem: string): never => {
      throw new PipelineContractError(`table ${spec.name}: ${problem}${by}; flow: ${formatFlow(f)}`);
    };
    const fields = Object.keys(f.match);
    for (const field of fields)
      if (!(spec.matches as string[]).includes(field)) fail(`${field} not declared for ${spec.name}`);
    for (const field of fields)
      for (const [re, ok, need] of PREREQ) if (re.test(field) && !ok(f.match)) fail(`${field} needs ${need}`);
    const acts = f.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : []));
    if (acts.some((a) => a.type === 'ct') && f.match.eth_type === undefined)
      fail('ct() needs an eth_type match (OVS rejects it otherwise)');
    if (f.priority === 0 && fields.length > 0) fail('a miss flow (priority 0) matches nothing');
    for (const ins of f.instructions) {
      const targets =
        ins.type === 'goto_table'
          ? [{ table: ins.table, reentry: false }]
          : ins.type === 'apply_actions' || ins.type === 'write_actions'
            ? actionTargets(ins.actions)
            : [];
      for (const t of targets) {
        const n = tableName(t.table);
        if (n && spec.next.includes(n)) continue;
        if (n && t.reentry && spec.reenters?.includes(n)) continue;
        fail(`continues in ${n ?? t.table}, not declared in next${t.reentry ? ' or reenters' : ''}`);
      }
    }
    for (const a of acts)
      if (a.type === 'learn' && !(spec.learnsInto as readonly string[] | undefined)?.includes(tableName(a.table) ?? ''))
        fail(`learns into ${tableName(a.table) ?? a.table}, not declared in learnsInto`);
    const k = flowKey(f);
    if (keys.has(k)) fail(`duplicate identity ${k}`);
    keys.add(k);
  }
}
