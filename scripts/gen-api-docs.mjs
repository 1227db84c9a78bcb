#!/usr/bin/env node
// Rewrites docs/api.md's per-resource parameter lists from the declarations in src/model/resources/.
//   node --import tsx scripts/gen-api-docs.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withApiParams } from '../src/model/resources/docs.ts';

const file = join(fileURLToPath(import.meta.url), '..', '..', 'docs', 'api.md');
const before = readFileSync(file, 'utf8');
const after = withApiParams(before);
if (after === before) console.log('docs/api.md is up to date');
else {
  writeFileSync(file, after);
  console.log('docs/api.md rewritten');
}
