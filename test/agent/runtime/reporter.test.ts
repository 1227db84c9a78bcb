// The agent's report queue (src/agent/runtime/reporter.ts): one request in flight per agent, the newest wish per
// object, a failure backs the whole queue off on an exponential, capped, jittered schedule, and nothing asked for
// is dropped by a failure — it is sent once the server answers again.
import assert from 'node:assert/strict';
import { afterEach, it, mock } from 'node:test';
import { REPORT_BACKOFF, Reporter, type ReportSink } from '../../../src/agent/runtime/reporter.js';
import { VnetApiError } from '../../../src/client/index.js';
import { Backoff } from '../../../src/util/backoff.js';
import { createLogger } from '../../../src/util/log.js';

const log = createLogger('reporter-test', 'fatal');

/** A server whose answers the test gives one by one: every call waits until resolved or failed. */
function fakeServer() {
  const calls: { key: string; body: unknown; ok: () => void; fail: (e?: Error) => void }[] = [];
  const call = (key: string, body: unknown) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ key, body, ok: () => resolve(), fail: (e = new Error('503 overloaded')) => reject(e) });
    });
  const sink: ReportSink = {
    reportDatapathStatus: (uuid, body) => call(`dp:${uuid}`, body),
    reportInterfaceBinding: (uuid, body) => call(`if:${uuid}`, body),
    reportTranslationStatus: (uuid, body) => call(`tr:${uuid}`, body),
  };
  return { calls, sink };
}

const up = (port: string) => ({ status: 'up' as const, active_datapath_uuid: 'dp-1', active_port_name: port });
/** Lets settled promises run their callbacks. */
const settle = () => new Promise<void>((r) => setImmediate(r));

afterEach(() => {
  mock.restoreAll();
  mock.timers.reset();
});

it('sends one report at a time per agent, each object its newest wish', async () => {
  const { calls, sink } = fakeServer();
  const r = new Reporter(sink, log);
  r.binding('if-a', up('p1'));
  r.binding('if-b', up('p2'));
  r.binding('if-c', up('p3'));
  r.binding('if-b', up('p2-new')); // replaces the queued wish for if-b
  assert.equal(calls.length, 1, 'one request in flight');
  calls[0]!.ok();
  await settle();
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1]!.body, up('p2-new'), 'the newest wish, the older one never sent');
  calls[1]!.ok();
  await settle();
  calls[2]!.ok();
  await settle();
  assert.deepEqual(
    calls.map((c) => c.key),
    ['if:if-a', 'if:if-b', 'if:if-c'],
  );
  assert.equal(await r.idle(100), true);
  // The same content again is not resent until the server's copy changes (invalidate).
  r.binding('if-a', up('p1'));
  assert.equal(calls.length, 3);
  r.invalidate('if', 'if-a');
  r.binding('if-a', up('p1'));
  assert.equal(calls.length, 4);
  r.close();
});

it('backs the whole queue off after a failure, then sends everything: nothing asked for is lost', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const { calls, sink } = fakeServer();
  const r = new Reporter(sink, log, { initialMs: 100, maxMs: 400, jitter: 0.5 });
  r.datapathStatus('dp-1', { is_connected: true, flows_in_sync: true, last_error: null, reported_node_id: 'n1' });
  r.binding('if-a', up('p1'));
  calls[0]!.fail();
  await settle();
  // While backing off, a newer wish for the failed object replaces it; the other waits its turn.
  r.datapathStatus('dp-1', { is_connected: true, flows_in_sync: false, last_error: 'x', reported_node_id: 'n1' });
  assert.equal(calls.length, 1, 'nothing sent while backing off');
  for (let k = 0; k < 3; k++) {
    mock.timers.tick(600); // the longest delay: 400 ms + 50 %
    assert.equal(calls.length, 2 + k, 'the next attempt after the delay, one at a time');
    calls.at(-1)!.fail();
    await settle();
  }
  mock.timers.tick(600);
  const last = calls.at(-1)!;
  assert.equal(last.key, 'dp:dp-1', 'the failed object goes first again');
  assert.deepEqual(last.body, { is_connected: true, flows_in_sync: false, last_error: 'x', reported_node_id: 'n1' });
  last.ok();
  await settle();
  assert.equal(calls.at(-1)!.key, 'if:if-a', 'then the rest at once');
  calls.at(-1)!.ok();
  await settle();
  assert.deepEqual(r.stats, { sent: 2, failed: 4 });
  assert.equal(calls.length, 6, 'nothing more to send');
  r.close();
});

it('the delays: 250 ms doubling to a 15 s cap, each spread ±50 %, reset by a success', async () => {
  assert.deepEqual(REPORT_BACKOFF, { initialMs: 250, maxMs: 15_000, jitter: 0.5 });
  mock.method(Math, 'random', () => 0.5);
  const mid = new Backoff(REPORT_BACKOFF);
  assert.deepEqual(
    Array.from({ length: 9 }, () => mid.next()),
    [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000],
  );
  mid.reset();
  assert.equal(mid.next(), 250);
  for (const [rnd, factor] of [
    [0, 0.5],
    [0.999_999, 1.5],
  ] as const) {
    mock.method(Math, 'random', () => rnd);
    const b = new Backoff(REPORT_BACKOFF);
    assert.deepEqual(
      Array.from({ length: 8 }, () => b.next()),
      [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000].map((d) => Math.round(d * factor)),
    );
  }

  // The Reporter waits exactly that schedule (Math.random at 0.5: the middle of it).
  mock.method(Math, 'random', () => 0.5);
  mock.timers.enable({ apis: ['setTimeout'] });
  const { calls, sink } = fakeServer();
  const r = new Reporter(sink, log);
  r.binding('if-a', up('p1'));
  for (const delay of [250, 500, 1000, 2000]) {
    calls.at(-1)!.fail();
    await settle();
    const before = calls.length;
    mock.timers.tick(delay - 1);
    assert.equal(calls.length, before, `not before ${delay} ms`);
    mock.timers.tick(1);
    assert.equal(calls.length, before + 1, `again after ${delay} ms`);
  }
  calls.at(-1)!.ok();
  await settle();
  r.binding('if-b', up('p2'));
  calls.at(-1)!.fail();
  await settle();
  mock.timers.tick(249);
  const n = calls.length;
  mock.timers.tick(1);
  assert.equal(calls.length, n + 1, 'a success resets the delay to 250 ms');
  r.close();
});

it('a report refused for good (its object deleted: 404) is dropped at once and holds nothing back', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const { calls, sink } = fakeServer();
  const r = new Reporter(sink, log);
  r.translationStatus('tr-gone', { active_datapath_uuid: 'dp-1' } as never);
  r.translationStatus('tr-new', { active_datapath_uuid: 'dp-1' } as never);
  assert.deepEqual(
    calls.map((c) => c.key),
    ['tr:tr-gone'],
  );
  const call = {
    method: 'PUT',
    path: '/api/1.0/translations/tr-gone/status',
    url: 'http://x/api/1.0/translations/tr-gone/status',
  };
  calls[0]!.fail(
    new VnetApiError('status', call, {
      status: 404,
      statusText: 'Not Found',
      text: '{"message":"unknown uuid tr-gone"}',
    }),
  );
  await settle();
  // No backoff: the next report goes out at once, and the refused one never again.
  assert.deepEqual(
    calls.map((c) => c.key),
    ['tr:tr-gone', 'tr:tr-new'],
  );
  calls[1]!.ok();
  await settle();
  mock.timers.tick(60_000);
  assert.equal(calls.length, 2, 'the refused report is not sent again');
  assert.ok(await r.idle(10));
  r.close();
});

it('the feed deleting an object forgets its reports: a pending one is never sent, one in flight is neither retried nor remembered', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const { calls, sink } = fakeServer();
  const r = new Reporter(sink, log);
  r.binding('if-a', up('p1'));
  r.binding('if-gone', up('p2'));
  r.translationStatus('tr-gone', { active_datapath_uuid: 'dp-1' } as never);
  r.binding('if-b', up('p3'));
  // A change of another kind, or an update, forgets nothing.
  r.changed('networks', 'if-gone', 'delete');
  r.changed('interfaces', 'if-gone', 'upsert');
  r.changed('interfaces', 'if-gone', 'delete');
  r.changed('translations', 'tr-gone', 'delete');
  calls[0]!.ok();
  await settle();
  assert.deepEqual(
    calls.map((c) => c.key),
    ['if:if-a', 'if:if-b'],
    'the deleted objects’ pending reports are not sent',
  );
  // Deleted while its report is in flight: a failure is not retried (nothing of it is sent again)...
  r.changed('interfaces', 'if-b', 'delete');
  calls[1]!.fail();
  await settle();
  mock.timers.tick(60_000);
  assert.equal(calls.length, 2, 'no retry for a deleted object');
  assert.ok(await r.idle(10));
  // ...and a success is not remembered: the same uuid made again gets the same report sent.
  r.binding('if-a', up('p4'));
  r.changed('interfaces', 'if-a', 'delete');
  calls[2]!.ok();
  await settle();
  r.binding('if-a', up('p4'));
  assert.equal(calls.length, 4, 'a re-created object’s report is sent again');
  assert.deepEqual(calls[3]!.body, up('p4'));
  calls[3]!.ok();
  await settle();
  r.close();
});
