// docs/pipeline.md stays true to tables.ts: the generated table list matches, and every table has a section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tableListMarkdown } from '../../../src/agent/pipeline/format.js';
import { TABLES } from '../../../src/agent/pipeline/tables.js';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/pipeline.md'), 'utf8');

test('the table list in docs/pipeline.md is the one generated from tables.ts', () => {
  const m = /<!-- tables:begin -->\n([\s\S]*?)\n<!-- tables:end -->/.exec(doc);
  assert.ok(m, 'markers missing');
  assert.equal(m[1], tableListMarkdown(), 'regenerate with tableListMarkdown()');
});

test('every table has its own section, in pipeline order', () => {
  let last = -1;
  for (const t of TABLES) {
    const at = doc.indexOf(`\n## ${t.name}\n`);
    assert.ok(at > 0, `no section for ${t.name}`);
    assert.ok(at > last, `${t.name} out of order`);
    last = at;
  }
});
