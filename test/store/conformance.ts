// Store conformance suite: what every Store implementation (SQLite, PostgreSQL) must guarantee.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Store, StoreUnavailableError } from '../../src/store/store.js';

export interface StoreFactory {
  /** A fresh, empty store. */
  create(): Promise<Store>;
  /** Re-opens the same storage after close() (persistent implementations only). */
  reopen?: (() => Promise<Store>) | undefined;
  retainLimited?: (retain: number) => Promise<Store>;
  /** Why the suite cannot run here (its database is missing): it is skipped, saying so. */
  skip?: string | null;
}

export function storeConformance(name: string, f: StoreFactory): void {
  describe(`Store conformance: ${name}`, { skip: f.skip ?? false }, () => {
    it('insert/get/update/remove and find with where, page and insertion order', async () => {
      const s = await f.create();
      try {
        await s.write(async (tx) => {
          await tx.insert('networks', { uuid: 'nw-b', mode: 'v', n: 2, flag: true, parent: null });
          await tx.insert('networks', { uuid: 'nw-a', mode: 'v', n: 1, flag: false, parent: 'x' });
          await tx.insert('networks', { uuid: 'nw-c', mode: 'p', n: 3, flag: true, parent: 'x' });
          await tx.insert('interfaces', { uuid: 'nw-a', other: true });
        });
        await s.read(async (tx) => {
          assert.deepEqual(await tx.get('networks', 'nw-a'), {
            uuid: 'nw-a',
            mode: 'v',
            n: 1,
            flag: false,
            parent: 'x',
          });
          assert.equal(await tx.get('networks', 'nw-z'), undefined);
          assert.deepEqual(
            (await tx.find('networks')).map((d) => d.uuid),
            ['nw-b', 'nw-a', 'nw-c'],
          );
          assert.deepEqual(
            (await tx.find('networks', { mode: 'v' })).map((d) => d.uuid),
            ['nw-b', 'nw-a'],
          );
          assert.deepEqual(
            (await tx.find('networks', { flag: true, mode: 'p' })).map((d) => d.uuid),
            ['nw-c'],
          );
          assert.deepEqual(
            (await tx.find('networks', { parent: null })).map((d) => d.uuid),
            ['nw-b'],
          );
          assert.deepEqual(
            (await tx.find('networks', { n: 3 })).map((d) => d.uuid),
            ['nw-c'],
          );
          assert.deepEqual(
            (await tx.find('networks', {}, { limit: 1, offset: 1 })).map((d) => d.uuid),
            ['nw-a'],
          );
          assert.equal(await tx.count('networks'), 3);
          assert.equal(await tx.count('networks', { parent: 'x' }), 2);
          assert.equal(await tx.count('interfaces'), 1);
        });
        await s.write(async (tx) => {
          await tx.update('networks', { uuid: 'nw-b', mode: 'p', n: 2, flag: true, parent: null });
          await tx.remove('networks', 'nw-a');
        });
        await s.read(async (tx) => {
          assert.equal((await tx.get('networks', 'nw-b'))?.mode, 'p');
          assert.equal(await tx.get('networks', 'nw-a'), undefined);
          // Update keeps the insertion position.
          assert.deepEqual(
            (await tx.find('networks')).map((d) => d.uuid),
            ['nw-b', 'nw-c'],
          );
        });
        await assert.rejects(
          s.write(async (tx) => tx.update('networks', { uuid: 'nw-missing' })),
          /missing/,
        );
      } finally {
        await s.close();
      }
    });

    it('where compares JSON types too: 3 is not "3", true is not "true"', async () => {
      const s = await f.create();
      try {
        await s.write(async (tx) => {
          await tx.insert('networks', { uuid: 'nw-n', n: 3, flag: true });
          await tx.insert('networks', { uuid: 'nw-s', n: '3', flag: 'true' });
        });
        await s.read(async (tx) => {
          assert.deepEqual(
            (await tx.find('networks', { n: 3 })).map((d) => d.uuid),
            ['nw-n'],
          );
          assert.deepEqual(
            (await tx.find('networks', { n: '3' })).map((d) => d.uuid),
            ['nw-s'],
          );
          assert.deepEqual(
            (await tx.find('networks', { flag: true })).map((d) => d.uuid),
            ['nw-n'],
          );
          assert.equal(await tx.count('networks', { flag: 'true' }), 1);
        });
      } finally {
        await s.close();
      }
    });

    it('a throwing write rolls back everything, including its changes and revision', async () => {
      const s = await f.create();
      try {
        await s.write(async (tx) => {
          await tx.insert('segments', { uuid: 'seg-1' });
          await tx.appendChange({ resource: 'segments', uuid: 'seg-1', op: 'upsert', item: null });
        });
        await assert.rejects(
          s.write(async (tx) => {
            await tx.insert('segments', { uuid: 'seg-2' });
            await tx.appendChange({ resource: 'segments', uuid: 'seg-2', op: 'upsert', item: null });
            throw new Error('boom');
          }),
          /boom/,
        );
        await s.read(async (tx) => {
          assert.equal(await tx.get('segments', 'seg-2'), undefined);
          assert.equal(await tx.revision(), 1);
        });
        const page = await s.changesSince(0, 10);
        assert.equal(page.changes.length, 1);
        // The next write gets the next revision: no hole left by the rolled-back one.
        const rev = await s.write(async (tx) =>
          tx.appendChange({ resource: 'segments', uuid: 'seg-3', op: 'delete', item: null }),
        );
        assert.equal(rev, 2);
      } finally {
        await s.close();
      }
    });

    it('revisions strictly increase, changes come back in order, paged, with items', async () => {
      const s = await f.create();
      try {
        const revs: number[] = [];
        for (let i = 0; i < 25; i++)
          await s.write(async (tx) => {
            revs.push(
              await tx.appendChange({
                resource: 'routes',
                uuid: `r-${i}`,
                op: 'upsert',
                item: { uuid: `r-${i}`, i } as never,
              }),
            );
            revs.push(await tx.appendChange({ resource: 'routes', uuid: `r-${i}`, op: 'delete', item: null }));
          });
        for (const [k, r] of revs.entries()) assert.equal(r, k + 1);
        const a = await s.changesSince(0, 10);
        assert.equal(a.current, 50);
        assert.equal(a.oldest, 1);
        assert.deepEqual(
          a.changes.map((c) => c.revision),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.deepEqual(a.changes[0], {
          revision: 1,
          resource: 'routes',
          uuid: 'r-0',
          op: 'upsert',
          item: { uuid: 'r-0', i: 0 },
        });
        assert.equal(a.changes[1]!.item, null);
        const b = await s.changesSince(45, 100);
        assert.deepEqual(
          b.changes.map((c) => c.revision),
          [46, 47, 48, 49, 50],
        );
        assert.deepEqual((await s.changesSince(50, 10)).changes, []);
      } finally {
        await s.close();
      }
    });

    it('writes are serialised: concurrent check-then-insert cannot both succeed', async () => {
      const s = await f.create();
      try {
        const attempt = (who: string) =>
          s.write(async (tx) => {
            const taken = await tx.find('mac_leases', { mac_address: '02:00:00:00:00:01' });
            await new Promise((r) => setTimeout(r, 5)); // widen the race window
            if (taken.length > 0) throw new Error(`taken for ${who}`);
            await tx.insert('mac_leases', { uuid: `ml-${who}`, mac_address: '02:00:00:00:00:01' });
          });
        const results = await Promise.allSettled([attempt('a'), attempt('b'), attempt('c')]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
        assert.equal(await s.read((tx) => tx.count('mac_leases')), 1);
      } finally {
        await s.close();
      }
    });

    it('afterCommit runs after the commit, in revision order, before later writes are answered', async () => {
      const s = await f.create();
      try {
        const order: string[] = [];
        await Promise.all(
          [1, 2, 3, 4].map((i) =>
            s.write(
              async (tx) => {
                order.push(`begin${i}`);
                return tx.appendChange({ resource: 'segments', uuid: `seg-${i}`, op: 'upsert', item: null });
              },
              (rev) => order.push(`commit${i}@${rev}`),
            ),
          ),
        );
        // Writes may share a transaction (group commit) but each announces after its own begin, in order.
        const commits = order.filter((o) => o.startsWith('commit'));
        assert.deepEqual(commits, ['commit1@1', 'commit2@2', 'commit3@3', 'commit4@4']);
        for (let i = 1; i <= 4; i++) assert.ok(order.indexOf(`begin${i}`) < order.indexOf(`commit${i}@${i}`));
        // A write issued after an answer starts after everything that answer depended on was announced.
        const later = await s.write(
          async (tx) => {
            order.push('begin5');
            return tx.appendChange({ resource: 'segments', uuid: 'seg-5', op: 'upsert', item: null });
          },
          (rev) => order.push(`commit5@${rev}`),
        );
        assert.equal(later, 5);
        assert.deepEqual(order.slice(-2), ['begin5', 'commit5@5']);
      } finally {
        await s.close();
      }
    });

    it('concurrent writes: a failing one rolls back alone, the others commit', async () => {
      const s = await f.create();
      try {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) =>
            s.write(async (tx) => {
              await tx.insert('segments', { uuid: `seg-${i}` });
              const rev = await tx.appendChange({ resource: 'segments', uuid: `seg-${i}`, op: 'upsert', item: null });
              if (i % 3 === 0) throw new Error(`fail ${i}`);
              return rev;
            }),
          ),
        );
        const okRevs = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        assert.equal(okRevs.length, 13);
        assert.deepEqual(
          okRevs,
          okRevs.map((_, k) => k + 1),
        );
        await s.read(async (tx) => {
          assert.equal(await tx.count('segments'), 13);
          assert.equal(await tx.get('segments', 'seg-3'), undefined);
          assert.equal(await tx.revision(), 13);
        });
      } finally {
        await s.close();
      }
    });

    it('a closed store refuses with StoreUnavailableError', async () => {
      const s = await f.create();
      await s.close();
      await assert.rejects(
        s.read(async () => 1),
        StoreUnavailableError,
      );
      await assert.rejects(
        s.write(async () => 1),
        StoreUnavailableError,
      );
      await s.close(); // idempotent
    });

    if (f.retainLimited) {
      it('prunes old changes but keeps at least the retained count; oldest moves forward', async () => {
        const s = await f.retainLimited!(100);
        try {
          for (let i = 0; i < 1100; i++)
            await s.write(async (tx) =>
              tx.appendChange({ resource: 'segments', uuid: 'seg-x', op: 'delete', item: null }),
            );
          const p = await s.changesSince(0, 5);
          assert.equal(p.current, 1100);
          assert.ok(p.oldest > 1 && p.oldest <= 1100 - 100 + 1, `oldest ${p.oldest}`);
          assert.equal(p.changes[0]!.revision, p.oldest);
        } finally {
          await s.close();
        }
      });
    }

    if (f.reopen) {
      it('committed data, changes and the revision survive close and reopen', async () => {
        const s = await f.create();
        await s.write(async (tx) => {
          await tx.insert('datapaths', { uuid: 'dp-1', dpid: '0x1' });
          await tx.appendChange({ resource: 'datapaths', uuid: 'dp-1', op: 'upsert', item: null });
        });
        await s.close();
        const again = await f.reopen!();
        try {
          assert.equal((await again.read((tx) => tx.get('datapaths', 'dp-1')))?.dpid, '0x1');
          assert.equal(await again.read((tx) => tx.revision()), 1);
          const rev = await again.write((tx) =>
            tx.appendChange({ resource: 'datapaths', uuid: 'dp-1', op: 'delete', item: null }),
          );
          assert.equal(rev, 2);
        } finally {
          await again.close();
        }
      });
    }
  });
}
