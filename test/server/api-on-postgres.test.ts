// The API suite on PostgreSQL (issue 21): every test file that builds its servers with test/server/helpers.ts's
// startServer runs again here with VNET_TEST_DB=postgres, so each of its servers is on a fresh database of one
// private cluster (started once for this process, removed at its exit). Files are found by their import of the
// helpers, so a new API test is covered without being listed; each runs in a suite named after it.
// Alone: node --import tsx --test test/server/api-on-postgres.test.ts [--test-name-pattern resources]
// Or one file: VNET_TEST_DB=postgres node --import tsx --test test/server/resources.test.ts
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe } from 'node:test';
import { pathToFileURL } from 'node:url';
import { postgresMissing } from '../lib/postgres.js';

// Before any helpers module is loaded (they read it once): the imports below are dynamic.
process.env.VNET_TEST_DB = 'postgres';

const ROOT = process.cwd();
const USES_HELPERS = /^import [^;]* from '(\.\/|\.\.\/server\/)helpers\.js';$/m;
const files = ['test/server', 'test/client']
  .flatMap((dir) => readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name)))
  .filter((f) => f.endsWith('.test.ts') && !f.endsWith('.ovs.test.ts') && !f.endsWith('.e2e.test.ts'))
  .filter((f) => USES_HELPERS.test(readFileSync(f, 'utf8')))
  .sort();

// Outside CI a machine without PostgreSQL skips; in CI startPostgres fails, saying why.
const skip = postgresMissing();
// A file whose test failed before closing its server leaves its store open: closed here, so the process can exit.
after(async () => {
  if (!skip) await (await import('./helpers.js')).closePostgres();
});
for (const file of files)
  describe(`${relative(ROOT, file)} on PostgreSQL`, { skip: skip ?? false }, async () => {
    await import(pathToFileURL(file).href);
  });
