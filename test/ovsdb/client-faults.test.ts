// OvsdbClient against a fault-injecting fake peer: malformed, oversized and mis-shaped replies,
// echo both ways, timeouts, cancel, reconnect. The happy paths run against real ovsdb-server.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { OvsdbClient } from '../../src/ovsdb/client.js';
import {
  OvsdbCanceledError,
  OvsdbDisconnectedError,
  OvsdbFramingError,
  OvsdbProtocolError,
  OvsdbTimeoutError,
  OvsdbTransactionError,
} from '../../src/ovsdb/errors.js';
import { op } from '../../src/ovsdb/ops.js';
import { type FakePeer, startFakePeer } from './fake-peer.js';

const peers: FakePeer[] = [];
const clients: OvsdbClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const p of peers) await p.close();
});

async function setup(
  onMessage?: Parameters<typeof startFakePeer>[0],
  opts: ConstructorParameters<typeof OvsdbClient>[1] = {},
) {
  const peer = await startFakePeer(onMessage);
  peers.push(peer);
  const first = peer.nextConn();
  const client = new OvsdbClient(peer.target, { backoffMinMs: 20, backoffMaxMs: 100, probeIntervalMs: 0, ...opts });
  clients.push(client);
  client.start();
  await client.ready(5000);
  return { peer, client, conn: await first };
}

test('requests are matched to replies by id, even out of order', async () => {
  const { client, conn } = await setup();
  const a = client.request('list_dbs', []);
  const b = client.echo('hello');
  const ma = await conn.next((m) => m.method === 'list_dbs');
  const mb = await conn.next((m) => m.method === 'echo');
  assert.notEqual(ma.id, mb.id);
  conn.send({ id: mb.id, result: ['hello'], error: null });
  conn.send({ id: ma.id, result: ['Open_vSwitch'], error: null });
  assert.deepEqual(await b, ['hello']);
  assert.deepEqual(await a, ['Open_vSwitch']);
});

test('an echo request from the server is answered with its params', async () => {
  const { conn } = await setup();
  conn.send({ method: 'echo', params: ['ping', 1], id: 'echo' });
  const reply = await conn.next((m) => m.id === 'echo');
  assert.deepEqual(reply, { id: 'echo', result: ['ping', 1], error: null });
  // A request for a method we do not serve gets an error, not silence.
  conn.send({ method: 'frobnicate', params: [], id: 7 });
  const err = await conn.next((m) => m.id === 7);
  assert.equal(err.result, null);
  assert.match(String(err.error), /unknown method/);
});

test('the client probes an idle connection with echo and drops it when unanswered', async () => {
  const { client, conn } = await setup(undefined, { probeIntervalMs: 100 });
  const probe = await conn.next((m) => m.method === 'echo', 2000);
  assert.ok(probe.id !== null);
  const [reason] = await once(client, 'disconnected');
  assert.ok(reason instanceof OvsdbTimeoutError, String(reason));
  // ...and comes back on its own.
  await client.ready(2000);
  assert.equal(client.connects, 2);
});

test('a malformed reply fails the request with a framing error, does not crash, and the client reconnects', async () => {
  let n = 0;
  const { client, peer } = await setup((m, c) => {
    if (m.method !== 'list_dbs') return undefined;
    if (++n === 1) c.raw(`{"id":${m.id},"result":["Open_vSwitch"],"error":nul}`);
    else return { id: m.id, result: ['Open_vSwitch'], error: null };
  });
  const errors: Error[] = [];
  client.on('protocolError', (e) => errors.push(e));
  const reconnected = peer.nextConn();
  await assert.rejects(client.listDbs(), (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'bad-json');
  assert.equal(errors.length, 1);
  await reconnected;
  await client.ready(2000);
  assert.deepEqual(await client.listDbs(), ['Open_vSwitch']);
});

test('an oversized reply is rejected without buffering it all, then the client reconnects', async () => {
  let n = 0;
  const { client, peer } = await setup(
    (m, c) => {
      if (m.method !== 'list_dbs') return undefined;
      if (++n === 1) {
        // Sent in pieces and never finished: the limit must trip on the partial message.
        c.raw(`{"id":${m.id},"result":["`);
        for (let i = 0; i < 8; i++) c.raw('x'.repeat(1024));
        return undefined;
      }
      return { id: m.id, result: ['db'], error: null };
    },
    { maxMessageBytes: 4096 },
  );
  const reconnected = peer.nextConn();
  await assert.rejects(client.listDbs(), (e: unknown) => e instanceof OvsdbFramingError && e.reason === 'too-large');
  await reconnected;
  await client.ready(2000);
  assert.deepEqual(await client.listDbs(), ['db']);
});

test('replies of the wrong shape are typed protocol errors naming the field', async () => {
  const { client } = await setup((m) => {
    if (m.method === 'list_dbs') return { id: m.id, result: { not: 'a list' }, error: null };
    if (m.method === 'get_schema') return { id: m.id, result: [], error: null };
    if (m.method === 'transact') return { id: m.id, result: 'nope', error: null };
    if (m.method === 'monitor_cond_since') return { id: m.id, result: [true, 5, {}], error: null };
    return undefined;
  });
  await assert.rejects(
    client.listDbs(),
    (e: unknown) => e instanceof OvsdbProtocolError && e.field === 'list_dbs.result',
  );
  await assert.rejects(
    client.getSchema('x'),
    (e: unknown) => e instanceof OvsdbProtocolError && e.field === 'get_schema.result',
  );
  await assert.rejects(
    client.transact('x', [op.comment('c')]),
    (e: unknown) => e instanceof OvsdbProtocolError && e.field === 'transact.result',
  );
  await assert.rejects(
    client.monitorCondSince('x', 'm', {}),
    (e: unknown) => e instanceof OvsdbProtocolError && e.field === 'monitor_cond_since.result[1]',
  );
  // These keep the connection: the stream itself was fine.
  assert.equal(client.connects, 1);
  assert.ok(client.connected);
});

test('a message that is neither request nor response drops the connection', async () => {
  const { client, conn } = await setup();
  const errs: Error[] = [];
  client.on('protocolError', (e) => errs.push(e));
  conn.send({ hello: 'world' });
  await once(client, 'disconnected');
  assert.ok(errs[0] instanceof OvsdbProtocolError);
  await client.ready(2000);
});

test('transaction errors name the failing operation; an extra result is the commit error', async () => {
  let n = 0;
  const { client } = await setup((m) => {
    if (m.method !== 'transact') return undefined;
    n++;
    if (n === 1)
      return { id: m.id, result: [{}, { error: 'constraint violation', details: 'dup name' }, null], error: null };
    return {
      id: m.id,
      result: [
        { uuid: ['uuid', '6b1d5c3a-1b2c-4d5e-8f90-0123456789ab'] },
        { error: 'referential integrity violation' },
      ],
      error: null,
    };
  });
  const ops = [op.comment('first'), op.insert('Bridge', { name: 'b' }), op.select('Bridge')];
  await assert.rejects(
    client.transact('Open_vSwitch', ops),
    (e: unknown) =>
      e instanceof OvsdbTransactionError &&
      e.opIndex === 1 &&
      e.error === 'constraint violation' &&
      e.details === 'dup name' &&
      e.comment === 'first',
  );
  await assert.rejects(
    client.transact('Open_vSwitch', [op.insert('Bridge', { name: 'b' })]),
    (e: unknown) => e instanceof OvsdbTransactionError && e.opIndex === -1 && /at commit/.test(e.message),
  );
});

test('abort sends cancel with the request id and fails the request at once; a late reply is ignored', async () => {
  const { client, conn } = await setup((m, c) => {
    if (m.method === 'cancel') {
      const [id] = m.params as number[];
      c.send({ id, result: null, error: 'canceled' });
    }
    if (m.method === 'echo') return { id: m.id, result: m.params, error: null };
    return undefined;
  });
  const ac = new AbortController();
  const p = client.transact('Open_vSwitch', [op.wait('Bridge', [], ['name'], '==', [])], {
    signal: ac.signal,
    timeoutMs: 0,
  });
  const rejected = assert.rejects(p, (e: unknown) => e instanceof OvsdbCanceledError && e.code === 'OVSDB_CANCELED');
  const req = await conn.next((m) => m.method === 'transact');
  ac.abort();
  const cancel = await conn.next((m) => m.method === 'cancel');
  assert.deepEqual(cancel.params, [req.id]);
  assert.equal(cancel.id, null);
  await rejected;
  // The peer's own "canceled" reply arrives for an id nobody waits for: harmless.
  assert.deepEqual(await client.echo('still up'), ['still up']);
});

test('a request with no reply times out; close() fails pending requests; requests while down fail fast', async () => {
  const { client } = await setup(undefined, { requestTimeoutMs: 100 });
  await assert.rejects(client.listDbs(), OvsdbTimeoutError);
  const pending = client.request('list_dbs', [], { timeoutMs: 0 });
  client.close();
  await assert.rejects(pending, OvsdbDisconnectedError);
  await assert.rejects(client.listDbs(), OvsdbDisconnectedError);
});

test('connects once the server appears, and reconnects with backoff after it goes away', async () => {
  const path = `/tmp/vnet-ovsdb-fake-${process.pid}-late.sock`;
  const client = new OvsdbClient(`unix:${path}`, { backoffMinMs: 20, backoffMaxMs: 80, probeIntervalMs: 0 });
  clients.push(client);
  client.start();
  await new Promise((r) => setTimeout(r, 150)); // several failed attempts first
  assert.equal(client.connected, false);
  const peer = await startFakePeer(undefined, path);
  peers.push(peer);
  await client.ready(2000);
  const events: string[] = [];
  client.on('connected', () => events.push('connected'));
  client.on('disconnected', () => events.push('disconnected'));
  peer.conns[0]!.socket.destroy();
  await once(client, 'connected');
  assert.deepEqual(events, ['disconnected', 'connected']);
  assert.equal(client.connects, 2);
});

test('after disconnect() the client is down at once: no request rides the dying socket, ready() waits', async () => {
  const { client } = await setup((m) =>
    m.method === 'echo' ? { id: m.id, result: m.params, error: null } : undefined,
  );
  const events: string[] = [];
  client.on('disconnected', () => events.push('disconnected'));
  client.disconnect();
  // 'close' has not fired yet; the client must already refuse and wait for the next connection.
  assert.equal(client.connected, false);
  await assert.rejects(client.echo('too soon'), OvsdbDisconnectedError);
  await client.ready(2000);
  assert.deepEqual(await client.echo('again'), ['again']);
  assert.deepEqual(events, ['disconnected']);
});
