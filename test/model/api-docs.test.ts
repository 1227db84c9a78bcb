// docs/api.md stays true to the declarations the server derives its parameters from: the per-resource parameter
// lists are the generated ones, and every resource with endpoints has its section.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { paramsFor } from '../../src/model/resource.js';
import {
  API_PARAMS_BEGIN,
  API_PARAMS_END,
  apiParamsMarkdown,
  resourceParamsMarkdown,
  withApiParams,
} from '../../src/model/resources/docs.js';
import { DECLARATIONS, PRIVATE_DECLARATIONS } from '../../src/model/resources/index.js';
import { UUID_PREFIX } from '../../src/model/types.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/api.md'), 'utf8');
const REGENERATE = 'regenerate with `node --import tsx scripts/gen-api-docs.mjs`';

test('the parameter lists in docs/api.md are the ones generated from src/model/resources', () => {
  const begin = doc.indexOf(API_PARAMS_BEGIN);
  const end = doc.indexOf(API_PARAMS_END);
  assert.ok(begin >= 0 && end > begin, `markers ${API_PARAMS_BEGIN} … ${API_PARAMS_END} missing`);
  // Per resource first, so a failure names the section that drifted.
  for (const kind of Object.keys(UUID_PREFIX) as (keyof typeof UUID_PREFIX)[])
    assert.ok(doc.includes(resourceParamsMarkdown(DECLARATIONS[kind])), `${kind}: ${REGENERATE}`);
  assert.equal(doc, withApiParams(doc), REGENERATE);
});

test('a section lists each parameter once, marks the required ones and says which are nullable', () => {
  const text = resourceParamsMarkdown(DECLARATIONS.networks);
  assert.match(text, /^### networks \(`nw-`\)\n\n- POST: `uuid` nw-uuid; /);
  assert.match(text, /`ipv4_network` \*\*\(req\)\*\* ipv4;/);
  assert.match(text, /`mtu` int 68\.\.65535, nullable/);
  assert.match(
    text,
    /\n- immutable \(PUT → 400 code 121\): `uuid`, `ipv4_network`, `ipv4_prefix`, `topology_uuid`, `project_id`, `tunnel_key`, `ct_zone`\n/,
  );
  const post = text.split('\n').find((l) => l.startsWith('- POST: '))!;
  assert.equal(post.split('; ').length, paramsFor(DECLARATIONS.networks.fields, 'create').length);
  // No filters, no line.
  assert.ok(!resourceParamsMarkdown(DECLARATIONS.ip_range_groups).includes('list filters'));
  // Every resource with endpoints of its own, and the private ones (tokens), which the feed never carries.
  assert.equal(
    apiParamsMarkdown().match(/^### /gm)?.length,
    Object.keys(UUID_PREFIX).length + Object.keys(PRIVATE_DECLARATIONS).length,
  );
});
