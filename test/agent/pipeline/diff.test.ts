// Flow diff: identical sets give nothing, adds precede deletes, cookies and masks handled, diff∘apply = target.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyFlowMods, diffFlows, flowKey } from '../../../src/agent/pipeline/diff.js';
import type { Flow } from '../../../src/openflow/types.js';

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
