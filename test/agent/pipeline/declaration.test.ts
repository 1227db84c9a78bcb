// The pipeline declaration is a contract: unique names, forward-only gotos, flows match only declared fields.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CT_BLOCKED_EGRESS,
  CT_BLOCKED_INGRESS,
  CT_ZONE,
  EGRESS_ALLOWED,
  FROM_TUNNEL,
  matchFlag,
  matchReg,
  NETWORK_KEY,
  OUT_PORT,
  REGISTER_LAYOUT,
} from '../../../src/agent/pipeline/registers.js';
import { TABLE, TABLES, tableName } from '../../../src/agent/pipeline/tables.js';
import type { Flow } from '../../../src/openflow/types.js';
import { checkFlows, contractCheckedByDefault, PipelineContractError } from '../../../src/agent/pipeline/contract.js';
import { Fabric } from './fabric.js';
import { DP1, DP2, DP3, seedResources, seedVms } from './fixtures.js';

test('table names are unique and TABLE numbers follow declaration order', () => {
  const names = TABLES.map((t) => t.name);
  assert.equal(new Set(names).size, names.length);
  names.forEach((n, i) => {
    assert.equal(TABLE[n as keyof typeof TABLE], i);
    assert.equal(tableName(i), n);
  });
});

test('every next table exists and is later in the pipeline, every re-entry earlier; missTo is among next', () => {
  TABLES.forEach((t, i) => {
    for (const n of t.next) {
      const j = names().indexOf(n);
      assert.ok(j >= 0, `${t.name} → unknown ${n}`);
      assert.ok(j > i, `${t.name} → ${n} goes backwards`);
    }
    for (const r of t.reenters ?? []) {
      const j = names().indexOf(r);
      assert.ok(j >= 0 && j < i, `${t.name} re-enters ${r}, which is not an earlier table`);
    }
    for (const l of t.learnsInto ?? []) {
      const j = names().indexOf(l);
      assert.ok(j > i, `${t.name} learns into ${l}, which is not a later table`);
    }
    if (t.missTo) assert.ok(t.next.includes(t.missTo), `${t.name} missTo ${t.missTo} not in next`);
    assert.ok(t.purpose.length > 20, `${t.name} needs a purpose`);
  });
});

function names(): string[] {
  return TABLES.map((t) => t.name);
}

test('generated flows match only declared fields, with prerequisites, and continue only to declared tables', () => {
  const vms1 = seedVms();
  checkFlows(new Fabric(seedResources(vms1), vms1, [DP1]).flows.get(DP1)!);
  const place = [DP1, DP2, DP3];
  const vms3 = seedVms((n) => place[n % 3]!);
  const fab = new Fabric(seedResources(vms3), vms3, place);
  for (const dp of place) checkFlows(fab.flows.get(dp)!);
});

test('the checker catches an undeclared field and a backwards goto (it can fail)', () => {
  const bad: Flow = {
    table: TABLE.l2_lookup,
    priority: 5,
    cookie: 0n,
    match: { tunnel_id: { value: 1n } },
    instructions: [],
  };
  assert.throws(() => checkFlows([bad]), /not declared/);
  // The error names the table, the owner and the flow.
  assert.throws(
    () => checkFlows([bad], 'if:if-1'),
    (e: Error) =>
      e instanceof PipelineContractError &&
      /^table l2_lookup: tunnel_id not declared for l2_lookup \(owner if:if-1\); flow: .*priority=5.*tun_id=0x1/.test(
        e.message,
      ),
  );
  const back: Flow = {
    table: TABLE.l2_lookup,
    priority: 5,
    cookie: 0n,
    match: {},
    instructions: [{ type: 'goto_table', table: TABLE.classifier }],
  };
  assert.throws(() => checkFlows([back]), /not declared in next/);
  // A resubmit may go back only to a declared re-entry (l2_lookup → classifier, the hairpin turn-around).
  const resubmitTo = (table: number): Flow => ({
    ...back,
    instructions: [{ type: 'apply_actions', actions: [{ type: 'resubmit', table }] }],
  });
  checkFlows([resubmitTo(TABLE.classifier)]);
  assert.throws(
    () => checkFlows([resubmitTo(TABLE.services)]),
    /continues in services, not declared in next or reenters/,
  );
});

test('the flow compiler checks the contract everywhere but production', (t) => {
  const saved = process.env.NODE_ENV;
  t.after(() => {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  });
  delete process.env.NODE_ENV;
  assert.equal(contractCheckedByDefault(), true);
  process.env.NODE_ENV = 'test';
  assert.equal(contractCheckedByDefault(), true);
  process.env.NODE_ENV = 'production';
  assert.equal(contractCheckedByDefault(), false);
});

test('no table number literal outside tables.ts', () => {
  const dir = join(import.meta.dirname, '../../../src/agent/pipeline');
  for (const f of readdirSync(dir)) {
    if (f === 'tables.ts' || !f.endsWith('.ts')) continue;
    const src = readFileSync(join(dir, f), 'utf8');
    assert.doesNotMatch(src, /\btable: \d/, `${f} hand-numbers a table`);
    assert.doesNotMatch(src, /goto_table', table: \d/, f);
  }
});

test('register fields fit their registers and overlap only by containment', () => {
  for (const r of REGISTER_LAYOUT) assert.ok(r.start + r.nBits <= (r.field === 'metadata' ? 64 : 32), r.doc);
  for (const a of REGISTER_LAYOUT)
    for (const b of REGISTER_LAYOUT) {
      if (a === b || a.field !== b.field) continue;
      const aEnd = a.start + a.nBits;
      const bEnd = b.start + b.nBits;
      const disjoint = aEnd <= b.start || bEnd <= a.start;
      const contains = (a.start <= b.start && aEnd >= bEnd) || (b.start <= a.start && bEnd >= aEnd);
      assert.ok(disjoint || contains, `${a.doc} / ${b.doc}`);
    }
});

test('flow builders name register fields (OUT_PORT, NETWORK_KEY …), never the registers that hold them', () => {
  const dir = join(import.meta.dirname, '../../../src/agent/pipeline');
  for (const f of readdirSync(dir)) {
    if (!/^flows.*\.ts$/.test(f)) continue;
    // Code only: comments may say where a field lives.
    const code = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(\/\/|\/?\*)/.test(l))
      .map((l) => l.replace(/\s\/\/.*$/, ''))
      .join('\n');
    assert.doesNotMatch(code, /\b(x?reg\d+|NXM_NX_REG\d+)\b/, `${f} names a register; use matchReg/matchFlag/load`);
    assert.doesNotMatch(code, /\b(metadata|ct_mark)\s*:/, `${f} matches metadata/ct_mark bits by hand`);
  }
});

test('matchReg and matchFlag put a declared field into its register', () => {
  assert.deepEqual(matchReg(OUT_PORT, 5), { reg2: { value: 5 } });
  assert.deepEqual(matchReg(NETWORK_KEY, 0x65), { metadata: { value: 0x65n, mask: 0xffffffn } });
  assert.deepEqual(matchReg(CT_ZONE, 0xb), { reg5: { value: 0xb, mask: 0xffff } });
  assert.deepEqual(matchFlag(EGRESS_ALLOWED, true), { reg0: { value: 2, mask: 2 } });
  assert.deepEqual(matchFlag([CT_BLOCKED_EGRESS, CT_BLOCKED_INGRESS], false), { ct_mark: { value: 0, mask: 3 } });
  assert.throws(() => matchReg(CT_ZONE, 0x10000), /does not fit reg5\[0\.\.15\]/);
  assert.throws(() => matchFlag([FROM_TUNNEL, CT_BLOCKED_EGRESS], true), /differ/);
});
