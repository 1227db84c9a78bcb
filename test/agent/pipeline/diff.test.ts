// Flow diff: identical sets give nothing, adds precede deletes, cookies and masks handled, diff∘apply = target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyFlowMods,
  diffFlows,
  flowBodyKey,
  flowKey,
  identityHash,
  sameBody,
  sameIdentity,
} from '../../../src/agent/pipeline/diff.js';
import { cookieFor } from '../../../src/agent/pipeline/cookies.js';
import { promiscuousPortFlows } from '../../../src/agent/pipeline/flows-promiscuous.js';
import { normalizeFlow } from '../../../src/openflow/normalize.js';
import type { Action, Flow, FlowMod } from '../../../src/openflow/types.js';

const f = (priority: number, port: number, out: number, cookie = 1n): Flow => ({
  table: 3,
  priority,
  cookie,
  match: { in_port: { value: port } },
  instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: out }] }],
});

test('identical state gives an empty diff', () => {
  const a = [f(10, 1, 2), f(10, 2, 1), f(0, 0, 0)];
  assert.deepEqual(diffFlows(a, a), []);
  assert.deepEqual(diffFlows(a, [...a].reverse()), []);
});

test('adds and modifies come before deletes', () => {
  const mods = diffFlows([f(10, 1, 2), f(10, 2, 1)], [f(10, 2, 5), f(10, 3, 1)]);
  assert.deepEqual(
    mods.map((m) => `${m.command}:${m.flow.match.in_port?.value}`),
    ['add:3', 'modify_strict:2', 'delete_strict:1'],
  );
});

test('a changed cookie is an add (OF 1.3 modify keeps the old cookie); same cookie new actions is modify_strict', () => {
  assert.equal(diffFlows([f(10, 1, 2, 1n)], [f(10, 1, 2, 2n)])[0]!.command, 'add');
  assert.equal(diffFlows([f(10, 1, 2)], [f(10, 1, 3)])[0]!.command, 'modify_strict');
});

test('priority is part of identity; a full mask equals an exact match; zero-masked fields are ignored', () => {
  assert.equal(diffFlows([f(10, 1, 2)], [f(11, 1, 2)]).length, 2);
  const exact: Flow = { ...f(10, 1, 2), match: { metadata: { value: 5n, mask: 0xffff_ffff_ffff_ffffn } } };
  const plain: Flow = { ...f(10, 1, 2), match: { metadata: { value: 5n } } };
  assert.equal(flowKey(exact), flowKey(plain));
  const masked: Flow = { ...f(10, 1, 2), match: { metadata: { value: 0x105n, mask: 0xffn } } };
  const reduced: Flow = { ...f(10, 1, 2), match: { metadata: { value: 0x5n, mask: 0xffn } } };
  assert.equal(flowKey(masked), flowKey(reduced));
});

test('property: applying diff(A, B) to A yields B, and then diff(B, B) is empty', () => {
  const arbFlow = fc
    .record({
      p: fc.integer({ min: 0, max: 3 }),
      port: fc.integer({ min: 1, max: 6 }),
      out: fc.integer({ min: 1, max: 4 }),
      c: fc.bigInt({ min: 1n, max: 3n }),
    })
    .map(({ p, port, out, c }) => f(p, port, out, c));
  const uniq = (xs: Flow[]) => [...new Map(xs.map((x) => [flowKey(x), x])).values()];
  fc.assert(
    fc.property(fc.array(arbFlow, { maxLength: 20 }), fc.array(arbFlow, { maxLength: 20 }), (a0, b0) => {
      const a = uniq(a0);
      const b = uniq(b0);
      const mods = diffFlows(a, b);
      const firstDelete = mods.findIndex((m) => m.command === 'delete_strict');
      if (firstDelete >= 0) assert.ok(mods.slice(firstDelete).every((m) => m.command === 'delete_strict'));
      const result = applyFlowMods(a, mods);
      assert.deepEqual(diffFlows(result, b), []);
      assert.equal(result.length, b.length);
    }),
  );
});

// The diff keys flows by hashes confirmed field by field (sameIdentity, sameBody) instead of flowKey's and
// flowBodyKey's text: the two must say the same thing for every flow, and a hash collision must cost nothing.

/** A match entry written one of the ways that mean the same to OVS: exact, full mask, number or bigint. */
const arbEntry = (field: 'in_port' | 'reg6' | 'metadata' | 'eth_dst') =>
  fc
    .record({
      v: fc.integer({ min: 0, max: 9 }),
      how: fc.constantFrom('exact', 'full', 'masked', 'zero', 'bigint'),
      mask: fc.integer({ min: 1, max: 0xff }),
    })
    .map(({ v, how, mask }) => {
      const wide = field === 'metadata' || field === 'eth_dst';
      const full = field === 'metadata' ? 0xffff_ffff_ffff_ffffn : field === 'eth_dst' ? 0xffff_ffff_ffffn : 0xffffffff;
      switch (how) {
        case 'exact':
          return { value: wide ? BigInt(v) : v };
        case 'full':
          return { value: wide ? BigInt(v) : v, mask: full };
        case 'masked':
          return wide ? { value: BigInt(v), mask: BigInt(mask) } : { value: v, mask };
        case 'zero':
          return wide ? { value: BigInt(v), mask: 0n } : { value: v, mask: 0 };
        default:
          return { value: BigInt(v) };
      }
    });

const arbFlowOf = fc
  .record({
    table: fc.integer({ min: 0, max: 2 }),
    priority: fc.integer({ min: 0, max: 2 }),
    fields: fc.shuffledSubarray(['in_port', 'reg6', 'metadata', 'eth_dst'] as const),
    entries: fc.tuple(arbEntry('in_port'), arbEntry('reg6'), arbEntry('metadata'), arbEntry('eth_dst')),
    out: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(0xfffffffd)),
    note: fc.option(fc.uint8Array({ maxLength: 3 }), { nil: undefined }),
    load: fc.option(fc.bigInt({ min: 0n, max: 3n }), { nil: undefined }),
    idle: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  })
  .map(({ table, priority, fields, entries, out, note, load, idle }): Flow => {
    const match: Flow['match'] = {};
    const all = { in_port: entries[0], reg6: entries[1], metadata: entries[2], eth_dst: entries[3] };
    for (const k of fields) (match as Record<string, unknown>)[k] = all[k];
    const actions: Action[] = [];
    if (load !== undefined) actions.push({ type: 'set_field', field: 'metadata', value: load });
    if (note !== undefined) actions.push({ type: 'note', data: note });
    actions.push({ type: 'output', port: out });
    const flow: Flow = { table, priority, cookie: 1n, match, instructions: [{ type: 'apply_actions', actions }] };
    if (idle !== undefined) flow.idleTimeout = idle;
    return flow;
  });

test('property: the hashed identity and body agree with flowKey and flowBodyKey', () => {
  fc.assert(
    fc.property(arbFlowOf, arbFlowOf, (a, b) => {
      assert.equal(sameIdentity(a, b), flowKey(a) === flowKey(b));
      if (flowKey(a) === flowKey(b)) assert.equal(identityHash(a), identityHash(b));
      assert.equal(sameBody(a, b), flowBodyKey(a) === flowBodyKey(b));
    }),
    { numRuns: 2000 },
  );
});

test('property: the diff is the one flowKey and flowBodyKey describe', () => {
  // The diff as it was written on the keys' text (the reference its hashed form must match, mod for mod).
  const reference = (installed: Flow[], desired: Flow[]) => {
    const have = new Map<string, Flow>();
    for (const x of installed) if (!have.has(flowKey(x))) have.set(flowKey(x), x);
    const seen = new Set<string>();
    const out: string[] = [];
    const dels: string[] = [];
    const mods: string[] = [];
    for (const x of desired) {
      const k = flowKey(x);
      if (seen.has(k)) continue;
      seen.add(k);
      const old = have.get(k);
      if (!old || old.cookie !== x.cookie) out.push(`add ${k}`);
      else if (old !== x && flowBodyKey(old) !== flowBodyKey(x)) mods.push(`modify_strict ${k}`);
    }
    for (const [k] of have) if (!seen.has(k)) dels.push(`delete_strict ${k}`);
    return [...out, ...mods, ...dels];
  };
  fc.assert(
    fc.property(fc.array(arbFlowOf, { maxLength: 12 }), fc.array(arbFlowOf, { maxLength: 12 }), (a, b) => {
      const got = diffFlows(a, b).map((m) => `${m.command} ${flowKey(m.flow)}`);
      assert.deepEqual(got, reference(a, b));
    }),
    { numRuns: 500 },
  );
});

test('flows whose identity hashes collide stay two flows: both found, neither mistaken for the other', () => {
  // 32-bit hashes: among ~300,000 identities a collision is all but certain (birthday bound ~77,000).
  const seen = new Map<number, Flow>();
  let pair: [Flow, Flow] | null = null;
  for (let i = 0; i < 400_000 && !pair; i++) {
    const x = f(i % 7, i, 1);
    const h = identityHash(x);
    const other = seen.get(h);
    if (other) pair = [other, x];
    else seen.set(h, x);
  }
  assert.ok(pair, 'no identity hash collision among 400,000 flows');
  const [a, b] = pair;
  assert.notEqual(flowKey(a), flowKey(b));
  assert.equal(sameIdentity(a, b), false);
  assert.deepEqual(diffFlows([a, b], [a, b]), []);
  assert.deepEqual(
    diffFlows([a], [b]).map((m) => [m.command, m.flow]),
    [
      ['add', b],
      ['delete_strict', a],
    ],
  );
  const moved: Flow = { ...b, instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: 9 }] }] };
  assert.deepEqual(
    diffFlows([a, b], [a, moved]).map((m) => m.command),
    ['modify_strict'],
  );
});

test('property: against a dump, a desired flow is put in canonical form only where needed, with the same diff', () => {
  // The switch's side is canonical (a dump decodes to it); the desired side is as built, canonical or not (a note
  // not yet padded, a full mask, a bigint where the codec reads a number). Giving diffFlows the normalizer must
  // come to what normalizing every desired flow first would.
  const said = (mods: FlowMod[]) =>
    mods.map((m) => `${m.command} ${flowKey(m.flow)} ${flowBodyKey(normalizeFlow(m.flow))}`);
  fc.assert(
    fc.property(fc.array(arbFlowOf, { maxLength: 12 }), fc.array(arbFlowOf, { maxLength: 12 }), (a, b) => {
      const dump = a.map(normalizeFlow);
      assert.deepEqual(said(diffFlows(dump, b, normalizeFlow)), said(diffFlows(dump, b.map(normalizeFlow))));
      // The switch holding exactly the desired set: nothing to do, however the desired flows were written.
      const uniq = [...new Map(b.map((x) => [flowKey(normalizeFlow(x)), x])).values()];
      assert.deepEqual(diffFlows(uniq.map(normalizeFlow), uniq, normalizeFlow), []);
    }),
    { numRuns: 500 },
  );
});

test('a restart keeps what the switch learned: a learn() built in another spelling than the dump reads is the same learn()', () => {
  // The compiler's learn() is not in the codec's canonical key order; the diff settles it through `canonical`, and
  // the learned flows' fate must be decided on that same form (else every restart deleted the learned MACs).
  const desired = promiscuousPortFlows('if-p31', 7, { key: 5, zone: 5 }, true);
  const learned: Flow = {
    table: 0,
    priority: 70,
    cookie: cookieFor('interface', 'if-p31', 'learned'),
    match: {},
    instructions: [],
  };
  const installed = [...desired.map(normalizeFlow), learned];
  assert.deepEqual(diffFlows(installed, desired, normalizeFlow), []);
  // The learn() gone (the port removed): what it learned is deleted by its cookie.
  const gone = diffFlows(installed, [], normalizeFlow);
  assert.ok(gone.some((m) => m.command === 'delete' && m.flow.cookie === learned.cookie));
});
