// The feed snapshot served gzip-encoded to clients that take it (src/util/gzip-pieces.ts, routes/feed.ts): its
// cached chunks are compressed once each and spliced into one plain gzip stream, which decompresses to exactly the
// bytes served without compression — after writes that change one chunk, add some, remove some. The one HTTP
// client (src/client/transport.ts) asks for gzip and reads it; malformed compressed bytes fail its call only.
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { after, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ApiClient } from '../../src/client/index.js';
import { exchange } from '../../src/client/transport.js';
import { gzipPieces } from '../../src/util/gzip-pieces.js';
import { startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

/** A raw GET: the bytes as they came over the wire and the headers (no client decoding anything). */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function send(base: string, method: string, path: string, body?: Record<string, unknown>) {
  const r = await fetch(`${base}/api/1.0${path}`, {
    method,
    ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  assert.equal(r.status, 200, `${method} ${path} → ${r.status} ${await r.text()}`);
}

it('gzipPieces: pieces compressed one by one make one gzip stream of their concatenation', () => {
  const pieces = [
    Buffer.from('{"a":['),
    Buffer.alloc(0),
    Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, k) => ({ uuid: `if-${k}`, n: k })))),
    Buffer.from(','),
    Buffer.from(Array.from({ length: 70_000 }, (_, k) => (k * 7919) % 251)), // incompressible bytes
    Buffer.from(']}'),
  ];
  const gz = gzipPieces(pieces);
  const joined = Buffer.concat(gz.parts);
  assert.equal(joined.length, gz.length);
  assert.deepEqual(gunzipSync(joined), Buffer.concat(pieces));
  // The same Buffer objects reuse their compressed runs: a second call shares every part but the trailer.
  const again = gzipPieces(pieces);
  assert.equal(
    again.parts.slice(0, -1).every((p, k) => p === gz.parts[k]),
    true,
  );
});

it('GET /feed/snapshot with Accept-Encoding gzip: byte-for-byte the plain reply once decompressed, after every kind of write', async () => {
  const s = await startServer();
  servers.push(s);
  // Enough networks for several 64 KB chunks.
  for (let k = 0; k < 400; k++)
    await send(s.base, 'POST', '/networks', {
      uuid: `nw-gz${k}`,
      ipv4_network: `10.${k % 250}.${Math.floor(k / 250)}.0`,
      ipv4_prefix: 24,
      display_name: `network number ${k} of the gzip test`,
    });
  const url = `${s.base}/api/1.0/feed/snapshot`;
  const compare = async (when: string) => {
    const plain = await rawGet(url, {});
    const gz = await rawGet(url, { 'accept-encoding': 'deflate, gzip;q=0.8' });
    assert.equal(plain.headers['content-encoding'], undefined, when);
    assert.equal(gz.headers['content-encoding'], 'gzip', when);
    assert.equal(Number(gz.headers['content-length']), gz.body.length, when);
    assert.match(String(gz.headers.vary), /accept-encoding/i);
    const back = gunzipSync(gz.body);
    // Same revision in both (nothing written in between): the same bytes.
    assert.equal(back.equals(plain.body), true, `${when}: decompressed bytes differ from the plain reply`);
    assert.ok(gz.body.length * 4 < plain.body.length, `${when}: ${gz.body.length} of ${plain.body.length} bytes`);
    return JSON.parse(plain.body.toString()) as { revision: number };
  };
  const first = await compare('after the creates');
  await send(s.base, 'PUT', '/networks/nw-gz200', { display_name: 'changed in the middle' });
  await send(s.base, 'DELETE', '/networks/nw-gz3');
  await send(s.base, 'POST', '/networks', { uuid: 'nw-gzlast', ipv4_network: '10.99.0.0', ipv4_prefix: 24 });
  const later = await compare('after an update, a delete and a create');
  assert.equal(later.revision, first.revision + 3);

  // Refused by weight: plain.
  const refused = await rawGet(url, { 'accept-encoding': 'gzip;q=0, identity' });
  assert.equal(refused.headers['content-encoding'], undefined);

  // The one HTTP client asks for gzip and reads it: the same snapshot as the plain bytes.
  const plain = await rawGet(url, {});
  assert.deepEqual(await new ApiClient({ baseUrl: s.base }).snapshot(), JSON.parse(plain.body.toString()));
});

it('the client: a gzip reply read whole; malformed or cut compressed bytes fail that call, not the process', async () => {
  const text = JSON.stringify(Array.from({ length: 5000 }, (_, k) => ({ uuid: `if-${k}`, n: (k * 7919) % 10007 })));
  const good = gzipSync(text);
  const bodies: Record<string, Buffer> = {
    '/good': good,
    '/garbage': Buffer.from('this is not gzip at all'),
    '/cut': good.subarray(0, good.length >> 1),
  };
  const server = createServer((req, res) => {
    assert.match(String(req.headers['accept-encoding']), /gzip/);
    const body = bodies[req.url!]!;
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const opts = { method: 'GET', headers: {}, timeoutMs: 5000, keepAlive: false };
  try {
    assert.equal((await exchange(new URL(`${base}/good`), opts)).text, text);
    await assert.rejects(exchange(new URL(`${base}/garbage`), opts), /header/i);
    await assert.rejects(exchange(new URL(`${base}/cut`), opts), /end of file/i);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
