// The API client's HTTP exchange: status and body, a deadline over headers and body, and a call that always
// settles, so a CLI never ends in Node's silent exit 13 ("unsettled top-level await").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { exchange } from '../../src/client/transport.js';

const MODULE = new URL('../../src/client/transport.ts', import.meta.url).href;

const opts = (timeoutMs: number, keepAlive = false) => ({ method: 'GET', headers: {}, timeoutMs, keepAlive });

test('a peer that accepts and closes at once, or never answers, settles the call even with nothing else alive', () => {
  // Its own process: the test runner's handles would keep this one's loop alive.
  const script = `
    import { createServer } from 'node:net';
    import { exchange } from ${JSON.stringify(MODULE)};
    const opts = { method: 'GET', headers: {}, timeoutMs: 200, keepAlive: false };
    const closer = createServer((s) => { s.destroy(); closer.close(); });
    await new Promise((r) => closer.listen(0, '127.0.0.1', r));
    try {
      await exchange(new URL('http://127.0.0.1:' + closer.address().port + '/'), opts);
      console.log('settled');
    } catch (err) {
      console.log(err.code);
    }
    const silent = createServer(() => silent.close());
    await new Promise((r) => silent.listen(0, '127.0.0.1', r));
    const t0 = Date.now();
    try {
      await exchange(new URL('http://127.0.0.1:' + silent.address().port + '/'), opts);
      console.log('settled');
    } catch (err) {
      console.log(err.name, Date.now() - t0 >= 190);
    }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `exit ${r.status} (13: a call was left pending)\n${r.stderr}`);
  assert.equal(r.stdout.trim(), 'ECONNRESET\nTimeoutError true');
});

async function withServer(
  handler: Parameters<typeof createServer>[1],
  f: (url: string) => Promise<void>,
): Promise<void> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await f(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('exchange returns status, status text and body, with and without keep-alive', async () => {
  await withServer(
    (req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${req.method} ${req.url}`),
    async (url) => {
      for (const keepAlive of [false, true]) {
        assert.deepEqual(await exchange(new URL(`${url}x`), { ...opts(5000, keepAlive), method: 'DELETE' }), {
          status: 404,
          statusText: 'Not Found',
          text: 'no DELETE /x',
        });
      }
    },
  );
});

test('exchange aborts a server that sends headers but never the body', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    },
    async (url) => {
      await assert.rejects(exchange(new URL(url), opts(200)), { name: 'TimeoutError' });
    },
  );
});

test('exchange waits out a reply that takes longer than its timeout while bytes keep coming', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let k = 0;
      const tick = setInterval(() => {
        res.write(`${k}`);
        if (++k === 10) {
          clearInterval(tick);
          res.end();
        }
      }, 200);
    },
    async (url) => {
      // 10 pieces 200 ms apart (2 s) against a 1 s timeout: a stall would fail, a slow reply does not.
      assert.equal((await exchange(new URL(url), opts(1000))).text, '0123456789');
    },
  );
});
