// Property tests: no command line and no API body can make vnctl fail other than with its typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../../src/cli/vnctl/errors.js';
import { formatResult } from '../../src/cli/vnctl/format.js';
import { helpText } from '../../src/cli/vnctl/help.js';
import { parseArgs } from '../../src/cli/vnctl/parse.js';
import { RESOURCES } from '../../src/cli/vnctl/table.js';

/** Words vnctl knows, so random lines reach deep into the parser instead of failing on word one. */
const vocabulary = [
  ...RESOURCES.flatMap((r) => [r.name, r.singular, r.name.replaceAll('_', '-')]),
  ...RESOURCES.flatMap((r) => r.relations.map((x) => x.name)),
  ...RESOURCES.flatMap((r) => [...r.add, ...r.modify, ...r.filters].map((o) => `--${o.name.replaceAll('_', '-')}`)),
  'add',
  'show',
  'modify',
  'del',
  'attach',
  'release',
  'help',
  '--help',
  '-h',
  '-o',
  '--output',
  'json',
  'yaml',
  'table',
  '--api',
  '--timeout',
  '--version',
  '--',
  'true',
  'false',
  '24',
  '-1',
  'x',
  '',
  '=',
  '--=',
  'dp-1',
  'nw-1',
  '..',
  '.',
];
const token = fc.oneof(
  fc.constantFrom(...vocabulary),
  fc.string(),
  fc.constantFrom('--a=b', '--ipv4-prefix=9', '--enable-routing=no'),
);

test('parseArgs returns an invocation or throws UsageError, for any argv', () => {
  fc.assert(
    fc.property(fc.array(token, { maxLength: 12 }), (argv) => {
      try {
        const inv = parseArgs(argv);
        if (inv.kind === 'help') assert.equal(typeof helpText(inv.topic), 'string');
        if (inv.kind === 'call') {
          assert.ok(inv.requests.length > 0);
          for (const r of inv.requests) {
            assert.match(r.path, /^\/[a-z_]+(\/[^/]+)*$/);
            // Every positional is one path segment: nothing a user types can climb out of /api/1.0/<resource>.
            assert.ok(!r.path.split('/').some((seg) => seg === '..' || seg === '.'), r.path);
          }
        }
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        assert.ok(!e.message.includes('\n'), 'usage errors are one line');
      }
    }),
    { numRuns: 3000 },
  );
});

test('formatResult prints any JSON body in every format without throwing', () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.constantFrom('table', 'yaml', 'json'),
      fc.constantFrom('body', 'objects', 'deleted'),
      (value, format, shape) => {
        const text = formatResult(value, format as 'table', shape as 'body', ['uuid', 'x']);
        assert.equal(typeof text, 'string');
      },
    ),
    { numRuns: 2000 },
  );
});

test('list pages with odd items still print', () => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.jsonValue(), (items, total) => {
      const text = formatResult({ total_count: total, offset: 0, limit: 30, items }, 'table', 'body', ['uuid']);
      assert.equal(typeof text, 'string');
    }),
    { numRuns: 1000 },
  );
});
