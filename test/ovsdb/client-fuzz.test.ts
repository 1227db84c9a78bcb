// Fuzz: a fake peer answers every client call with random JSON-RPC shapes or random bytes. Each
// call must settle with a typed OvsdbError or a value, nothing may escape uncaught, and the
// client must come back connected.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import { OvsdbError } from '../../src/ovsdb/errors.js';
import { op } from '../../src/ovsdb/ops.js';
import { type FakeConn, type FakePeer, startFakePeer } from './fake-peer.js';

type Reply =
  | { kind: 'json'; make: (id: unknown) => unknown }
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'split'; make: (id: unknown) => unknown; at: number };

const jsonish = fc.jsonValue({ maxDepth: 3 });
const replyArb: fc.Arbitrary<Reply> = fc.oneof(
  // A reply to our id with random result/error members (or missing ones).
  fc
    .record({
      result: fc.option(jsonish),
      error: fc.option(jsonish),
      extra: fc.dictionary(fc.string(), jsonish, { maxKeys: 2 }),
    })
    .map((r) => ({
      kind: 'json' as const,
      make: (id: unknown) => ({
        ...r.extra,
        id,
        ...(r.result === null ? {} : { result: r.result }),
        ...(r.error === null ? {} : { error: r.error }),
      }),
    })),
  // A notification or request with random method/params, then nothing.
  fc
    .record({
      method: fc.constantFrom('update', 'update2', 'update3', 'echo', 'locked', 'x'),
      params: jsonish,
      id: fc.option(jsonish),
    })
    .map((m) => ({ kind: 'json' as const, make: () => m })),
  // Any JSON value at all.
  jsonish.map((v) => ({ kind: 'json' as const, make: () => v })),
  // Random bytes, sometimes starting like JSON.
  fc
    .tuple(fc.constantFrom('', '{', '[', '{"id":'), fc.uint8Array({ maxLength: 64 }))
    .map(([p, b]) => ({ kind: 'raw' as const, bytes: Buffer.concat([Buffer.from(p), b]) })),
  // A valid-looking reply cut short.
  fc
    .record({ result: jsonish, at: fc.nat() })
    .map((r) => ({ kind: 'split' as const, make: (id: unknown) => ({ id, result: r.result, error: null }), at: r.at })),
);

const calls: Array<(c: OvsdbClient) => Promise<unknown>> = [
  (c) => c.listDbs(),
  (c) => c.getSchema('Open_vSwitch'),
  (c) => c.echo('x'),
  (c) => c.transact('Open_vSwitch', [op.comment('c'), op.insert('Bridge', { name: 'b' }), op.select('Bridge')]),
  (c) => c.monitorCondSince('Open_vSwitch', 'm', { Bridge: [{ columns: ['name'] }] }),
  (c) => c.monitor('Open_vSwitch', 'm', { Bridge: { columns: ['name'] } }),
];

let peer: FakePeer;
let client: OvsdbClient;
after(async () => {
  client?.close();
  await peer?.close();
});

test('random replies and bytes: every call settles typed, the client recovers', async () => {
  let current: Reply | undefined;
  peer = await startFakePeer((m: Record<string, unknown>, c: FakeConn) => {
    if (m.method === 'echo' && m.id !== undefined && current === undefined)
      return { id: m.id, result: m.params, error: null };
    const r = current;
    if (!r || m.id === null || m.id === undefined) return undefined;
    if (r.kind === 'raw') c.raw(r.bytes);
    else if (r.kind === 'json') c.send(r.make(m.id));
    else {
      const s = JSON.stringify(r.make(m.id));
      c.raw(s.slice(0, r.at % Math.max(1, s.length)));
    }
    return undefined;
  });
  client = new OvsdbClient(peer.target, {
    backoffMinMs: 5,
    backoffMaxMs: 20,
    requestTimeoutMs: 200,
    probeIntervalMs: 0,
    maxMessageBytes: 4096,
  });
  client.start();
  await client.ready(2000);
  let settledOk = 0;
  let settledErr = 0;
  await fc.assert(
    fc.asyncProperty(replyArb, fc.nat({ max: calls.length - 1 }), async (reply, which) => {
      await client.ready(2000);
      current = reply;
      try {
        await calls[which]!(client);
        settledOk++;
      } catch (err) {
        assert.ok(err instanceof OvsdbError, `untyped error: ${String(err)}`);
        settledErr++;
      } finally {
        current = undefined;
      }
      // Whatever happened, the client is usable again (after a reconnect if it dropped).
      await client.ready(2000);
    }),
    { numRuns: 150 },
  );
  assert.ok(settledErr > 0);
  // A well-formed reply still works at the end.
  assert.deepEqual(await client.echo('done'), ['done']);
  console.log(`fuzz: ${settledOk} resolved, ${settledErr} typed errors, ${client.connects} connections`);
});
