// fetchText: a deadline that keeps the process alive, so a fetch that can never settle ends in a
// TimeoutError instead of Node's silent exit 13 ("unsettled top-level await").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { test } from 'node:test';
import { fetchText } from '../../src/util/fetch.js';

const MODULE = new URL('../../src/util/fetch.ts', import.meta.url).href;

/** A fetch like undici's when its request is lost: never settles, only an abort rejects it. */
const lostRequestFetch = `(url, init) => new Promise((_, reject) =>
  init.signal.addEventListener('abort', () => reject(init.signal.reason)))`;

test('a fetch that never settles times out even when nothing else keeps the process alive', () => {
  // Its own process: the test runner's handles would keep this one's loop alive.
  const script = `
    import { fetchText } from ${JSON.stringify(MODULE)};
    const t0 = Date.now();
    try {
      await fetchText('http://127.0.0.1:9/', { timeoutMs: 200, fetch: ${lostRequestFetch} });
      console.log('settled');
    } catch (err) {
      console.log(err.name, Date.now() - t0 >= 190);
    }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `exit ${r.status} (13: the deadline did not keep the loop alive)\n${r.stderr}`);
  assert.equal(r.stdout.trim(), 'TimeoutError true');
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

test('fetchText returns status and body', async () => {
  await withServer(
    (req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${req.method} ${req.url}`),
    async (url) => {
      assert.deepEqual(await fetchText(`${url}x`, { method: 'DELETE', timeoutMs: 5000 }), {
        status: 404,
        ok: false,
        text: 'no DELETE /x',
      });
    },
  );
});

test('fetchText aborts a server that sends headers but never the body', async () => {
  await withServer(
    (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    },
    async (url) => {
      await assert.rejects(fetchText(url, { timeoutMs: 200 }), { name: 'TimeoutError' });
    },
  );
});
