// Unit tests of vnctl's output: human tables and key/value lines, YAML and JSON of the API body.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { combine, formatResult, inline, renderObject, renderTable } from '../../src/cli/vnctl/format.js';

const page = {
  total_count: 2,
  offset: 0,
  limit: 30,
  items: [
    { uuid: 'dp-br0', display_name: 'br0', dpid: '0x000002fdee8e0a44', node_id: 'n1', ipv4_address: null, extra: 1 },
    {
      uuid: 'dp-test1',
      display_name: 'test1',
      dpid: '0x0000aabbccddeeff',
      node_id: 'vna',
      ipv4_address: '10.0.0.1',
      extra: 2,
    },
  ],
};
const cols = ['uuid', 'display_name', 'dpid', 'node_id', 'ipv4_address'];

describe('tables', () => {
  test('a list page prints one aligned row per item with the key columns only', () => {
    const text = formatResult(page, 'table', 'body', cols);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^UUID\s+DISPLAY_NAME\s+DPID\s+NODE_ID\s+IPV4_ADDRESS$/);
    assert.match(lines[1]!, /^dp-br0\s+br0\s+0x000002fdee8e0a44\s+n1\s+-$/);
    assert.match(lines[2]!, /^dp-test1\s+test1\s+0x0000aabbccddeeff\s+vna\s+10\.0\.0\.1$/);
    assert.ok(!text.includes('EXTRA'));
    // Columns line up: every row's second column starts where the header's does.
    const at = lines[0]!.indexOf('DISPLAY_NAME');
    assert.equal(lines[1]!.indexOf('br0', 'dp-br0'.length), at);
    assert.equal(lines[2]!.indexOf('test1', 'dp-test1'.length), at);
  });

  test('a partial page says which part of how many', () => {
    const text = formatResult({ ...page, total_count: 7, offset: 2 }, 'table', 'body', cols);
    assert.match(text, /\(3-4 of 7; use --offset\/--limit\)\n$/);
  });

  test('an empty list says so', () => {
    assert.equal(formatResult({ total_count: 0, offset: 0, limit: 30, items: [] }, 'table', 'body', cols), '(none)\n');
  });

  test('declared columns the server does not send fall back to its scalar fields', () => {
    const text = renderTable([{ a: 1, b: 'x', nested: { c: 1 } }], ['nope']);
    assert.equal(text, 'A  B\n1  x\n');
  });

  test('a single object prints key/value lines; nested leases one per line', () => {
    const text = formatResult(
      {
        uuid: 'if-1',
        mode: 'vif',
        port_name: null,
        security_group_uuids: [],
        mac_leases: [
          { uuid: 'ml-1', mac_address: '52:54:00:00:00:01', ip_leases: [{ uuid: 'il-1', ipv4_address: '10.0.0.1' }] },
        ],
        enable_routing: false,
      },
      'table',
      'body',
      [],
    );
    assert.equal(
      text,
      [
        'uuid                  if-1',
        'mode                  vif',
        'port_name             -',
        'security_group_uuids  -',
        'mac_leases',
        '  - uuid=ml-1 mac_address=52:54:00:00:00:01 ip_leases=[{uuid=il-1 ipv4_address=10.0.0.1}]',
        'enable_routing        false',
        '',
      ].join('\n'),
    );
  });

  test('several objects print as blocks separated by a blank line', () => {
    const text = formatResult(combine([{ uuid: 'a' }, { uuid: 'b' }], 'objects'), 'table', 'objects', []);
    assert.equal(text, 'uuid  a\n\nuuid  b\n');
  });

  test('deleted uuids print one per line, combined over several calls', () => {
    const v = combine([['if-a'], ['if-b']], 'deleted');
    assert.deepEqual(v, ['if-a', 'if-b']);
    assert.equal(formatResult(v, 'table', 'deleted', []), 'if-a\nif-b\n');
  });

  test('control characters in API data are shown escaped, never sent to the terminal', () => {
    assert.equal(inline('a\nb\tc\u001b[31mred\u009b'), 'a\\nb\\tc\\x1b[31mred\\x9b');
    const text = formatResult(
      { total_count: 1, offset: 0, limit: 30, items: [{ uuid: 'nw-1', display_name: 'x\ny' }] },
      'table',
      'body',
      ['uuid', 'display_name'],
    );
    assert.equal(text.trimEnd().split('\n').length, 2);
    for (const body of [
      { k: '\u001b[2J' },
      { '\u001b[2J': 1 },
      [{ '\u001b': { '\u0007': 'x' } }],
      { items: [{ '\u001b': 1 }] },
    ]) {
      for (const shape of ['body', 'objects'] as const) {
        const out = formatResult(body, 'table', shape, []);
        assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(out), JSON.stringify(out));
      }
    }
  });

  test('inline rendering', () => {
    assert.equal(inline(null), '-');
    assert.equal(inline(''), '""');
    assert.equal(inline(['a', 'b']), 'a, b');
    assert.equal(inline({ a: 1, b: [1, 2] }), 'a=1 b=[1, 2]');
    assert.equal(inline(12345678901234567890n), '12345678901234567890');
    assert.equal(renderObject({}), '\n');
  });
});

describe('yaml and json', () => {
  test('yaml is the API body and parses back to it', () => {
    const text = formatResult(page, 'yaml', 'body', cols);
    assert.deepEqual(parseYaml(text), page);
    assert.match(text, /^total_count: 2$/m);
  });

  test('json is the API body, pretty-printed', () => {
    const text = formatResult(page, 'json', 'body', cols);
    assert.deepEqual(JSON.parse(text), page);
    assert.ok(text.endsWith('}\n'));
  });

  test('several objects are an array in yaml and json', () => {
    const v = combine([{ uuid: 'a' }, { uuid: 'b' }], 'objects');
    assert.deepEqual(JSON.parse(formatResult(v, 'json', 'objects', [])), [{ uuid: 'a' }, { uuid: 'b' }]);
    assert.deepEqual(parseYaml(formatResult(v, 'yaml', 'objects', [])), [{ uuid: 'a' }, { uuid: 'b' }]);
  });

  test('an empty reply is null, not a crash', () => {
    assert.equal(formatResult(null, 'json', 'body', []), 'null\n');
    assert.equal(formatResult(null, 'table', 'body', []), '');
  });
});
