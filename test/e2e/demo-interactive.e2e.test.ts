// `vnet demo` without --once: stays up, prints working exploration hints, and Ctrl-C removes everything.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { VNET_BIN } from '../../src/demo/cluster.js';
import { Lab } from '../../src/lab/lab.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const prefix = labPrefix('edemi');

test('vnet demo stays up until Ctrl-C, shows how to explore, then removes everything', async () => {
  assertE2eEnvironment();
  const p2 = prefix;
  const child = spawn(VNET_BIN, ['demo', '--prefix', p2], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 50_000;
    while (!out.includes('press Ctrl-C') && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    assert.match(out, /press Ctrl-C/, out);
    assert.match(out, /vnctl/);
    assert.match(out, /api\/1\.0/);
    assert.match(out, /ip netns exec/);
    // The explore hints work: the API answers through the printed URL from this namespace, with the printed
    // admin token (the server listens on every address of its host, so it requires one).
    const m = /API \(from this machine\): +curl -H "Authorization: Bearer \$\(cat (\S+)\)" (\S+)/.exec(out);
    assert.ok(m, out);
    const [, tokenFile, url] = m;
    assert.equal((await fetch(url!)).status, 401, 'no token, no answer');
    const token = readFileSync(tokenFile!, 'utf8').trim();
    const res = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { total_count: number };
    // The seed's three networks and the external one of the north-south step.
    assert.equal(body.total_count, 4);
    // The topology page's URL: the page itself needs no token (it asks for one before reading the API).
    const page = /topology page \(browser\): +(\S+)/.exec(out);
    assert.ok(page, out);
    const ui = await fetch(page[1]!);
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-type') ?? '', /^text\/html/);
  } finally {
    child.kill('SIGINT');
    const code = await closed;
    await Lab.destroy(p2).catch(() => undefined);
    assert.equal(code, 0, out);
  }
  assert.equal(existsSync(`/tmp/${p2}`), false, 'demo left its run dir behind');
});
