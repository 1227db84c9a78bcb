// The table contract as an assertion: a flow matches only its table's fields (with prerequisites), continues
// only to declared tables, a miss flow matches nothing, and no two flows share an identity.
import assert from 'node:assert/strict';
import { flowKey } from '../../../src/agent/pipeline/diff.js';
import { TABLES, tableName } from '../../../src/agent/pipeline/tables.js';
import type { Action, Flow, Match } from '../../../src/openflow/types.js';

/** Tables an action list continues in (resubmit, ct(table)). */
function actionTargets(actions: readonly Action[]): number[] {
  const out: number[] = [];
  for (const a of actions) {
    if (a.type === 'resubmit' && a.table !== undefined) out.push(a.table);
    if (a.type === 'ct' && a.table !== undefined) out.push(a.table);
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

export function checkFlows(flows: readonly Flow[]): void {
  const keys = new Set<string>();
  for (const f of flows) {
    const spec = TABLES[f.table];
    assert.ok(spec, `flow in unknown table ${f.table}`);
    const where = `${spec.name} prio ${f.priority} ${JSON.stringify(Object.keys(f.match))}`;
    for (const field of Object.keys(f.match))
      assert.ok((spec.matches as string[]).includes(field), `${where}: ${field} not declared for ${spec.name}`);
    for (const field of Object.keys(f.match))
      for (const [re, ok, need] of PREREQ)
        if (re.test(field)) assert.ok(ok(f.match), `${where}: ${field} needs ${need}`);
    const acts = f.instructions.flatMap((i) => (i.type === 'apply_actions' ? i.actions : []));
    if (acts.some((a) => a.type === 'ct'))
      assert.ok(f.match.eth_type !== undefined, `${where}: ct() needs an eth_type match (OVS rejects it otherwise)`);
    if (f.priority === 0) assert.deepEqual(Object.keys(f.match), [], `${where}: a miss flow matches nothing`);
    for (const ins of f.instructions) {
      const targets =
        ins.type === 'goto_table'
          ? [ins.table]
          : ins.type === 'apply_actions' || ins.type === 'write_actions'
            ? actionTargets(ins.actions)
            : [];
      for (const t of targets) {
        const n = tableName(t);
        assert.ok(n && spec.next.includes(n), `${where}: continues in ${n ?? t}, not declared in next`);
      }
    }
    const k = flowKey(f);
    assert.ok(!keys.has(k), `${where}: duplicate identity ${k}`);
    keys.add(k);
  }
}
