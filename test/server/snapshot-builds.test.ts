// GET /feed/snapshot under a crowd: many readers while writes keep moving the revision share builds (one at a time,
// the next shared by everyone who asked meanwhile) instead of building one each, and every reader still sees every
// write acknowledged before it asked.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { startServer, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

async function put(base: string, k: number): Promise<void> {
  const r = await fetch(`${base}/api/1.0/networks/nw-snap`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: `w${k}` }),
  });
  assert.equal(r.status, 200, await r.text());
}

it('100 snapshot readers during 20 writes share builds and each sees the writes acknowledged before it asked', async () => {
  const s = await startServer();
  servers.push(s);
  const created = await fetch(`${s.base}/api/1.0/networks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uuid: 'nw-snap', ipv4_network: '10.9.0.0', ipv4_prefix: 24 }),
  });
  assert.equal(created.status, 200);
  let release = (): void => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let builds = 0;
  let building = 0;
  let mostAtOnce = 0;
  const snapshot = s.service.snapshot.bind(s.service);
  s.service.snapshot = async () => {
    builds++;
    mostAtOnce = Math.max(mostAtOnce, ++building);
    try {
      // The first build is held until every write is made and its readers have asked (a big model's slow build).
      await gate;
      return await snapshot();
    } finally {
      building--;
    }
  };
  let acked = -1;
  const readers: Promise<void>[] = [];
  for (let k = 0; k < 20; k++) {
    await put(s.base, k);
    acked = k;
    for (let j = 0; j < 5; j++) {
      const expect = acked;
      readers.push(
        (async () => {
          const r = await fetch(`${s.base}/api/1.0/feed/snapshot`);
          assert.equal(r.status, 200);
          const snap = (await r.json()) as { resources: { networks: { uuid: string; display_name: string }[] } };
          const nw = snap.resources.networks.find((n) => n.uuid === 'nw-snap')!;
          assert.ok(Number(nw.display_name.slice(1)) >= expect, `${nw.display_name} predates write w${expect}`);
        })(),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  release();
  await Promise.all(readers);
  // One build at a time, readers of every newer revision sharing the next: fewer builds than revisions.
  assert.equal(mostAtOnce, 1, 'snapshot builds ran concurrently');
  assert.ok(builds <= 3, `${builds} builds for 100 readers over 20 revisions`);
});
