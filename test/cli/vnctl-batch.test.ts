// Unit tests of `vnctl batch`: shell-like word splitting and line handling, and batch runs against a fake peer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { batchLines, splitWords } from '../../src/cli/vnctl/batch.js';
import { UsageError } from '../../src/cli/vnctl/errors.js';
import { parseArgs } from '../../src/cli/vnctl/parse.js';
import { runVnctl } from '../../src/cli/vnctl/main.js';

describe('splitWords', () => {
  test('spaces, tabs, quotes, escapes, comments', () => {
    assert.deepEqual(splitWords('  a  b\tc '), ['a', 'b', 'c']);
    assert.deepEqual(splitWords(`--display-name 'my net' --x="a \\"b\\" \\\\ c"`), [
      '--display-name',
      'my net',
      '--x=a "b" \\ c',
    ]);
    assert.deepEqual(splitWords(`a\\ b 'it''s' ""`), ['a b', 'its', '']);
    assert.deepEqual(splitWords('a # comment "unterminated'), ['a']);
    assert.deepEqual(splitWords('a#b'), ['a#b']);
    assert.deepEqual(splitWords('"x\\n"'), ['x\\n'], 'other escapes stay literal in double quotes');
  });

  test('unterminated quotes are usage errors', () => {
    assert.throws(
      () => splitWords(`a 'b`),
      (e) => e instanceof UsageError && /single quote/.test(e.message),
    );
    assert.throws(
      () => splitWords('a "b'),
      (e) => e instanceof UsageError && /double quote/.test(e.message),
    );
  });
});

describe('batchLines', () => {
  test('skips blanks and comments, drops a leading vnctl, joins continued lines, keeps line numbers', () => {
    const text = [
      '# seed',
      '',
      'vnctl networks add --ipv4-network 10.0.0.0 \\',
      '  --ipv4-prefix 24',
      'datapaths show',
      '',
    ].join('\n');
    assert.deepEqual(batchLines(text), [
      { line: 3, words: ['networks', 'add', '--ipv4-network', '10.0.0.0', '--ipv4-prefix', '24'] },
      { line: 5, words: ['datapaths', 'show'] },
    ]);
  });

  test('CRLF files work', () => {
    assert.deepEqual(batchLines('datapaths show\r\nnetworks show\r\n'), [
      { line: 1, words: ['datapaths', 'show'] },
      { line: 2, words: ['networks', 'show'] },
    ]);
  });

  test('a bad line is named by number', () => {
    assert.throws(
      () => batchLines('ok\nbad "quote'),
      (e) => e instanceof UsageError && /^line 2: /.test(e.message),
    );
  });
});

describe('parse', () => {
  test('batch takes a file or stdin and only global options', () => {
    const inv = parseArgs(['--api', 'http://h:1', 'batch', 'f.txt', '-o', 'json']);
    assert.equal(inv.kind, 'batch');
    if (inv.kind === 'batch') {
      assert.equal(inv.file, 'f.txt');
      assert.deepEqual(inv.globals, { api: 'http://h:1', output: 'json' });
    }
    const stdin = parseArgs(['batch', '-']);
    assert.equal(stdin.kind === 'batch' && stdin.file, undefined);
    assert.throws(() => parseArgs(['batch', 'f', '--uuid', 'x']), /batch takes only global options/);
    assert.throws(() => parseArgs(['batch', 'f', 'g']), /unexpected argument 'g'/);
  });
});

describe('runs against a fake peer', () => {
  let server: Server;
  let api = '';
  let dir = '';
  const seen: string[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `vnctl-batch-${process.pid}-`));
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const fail = req.url?.includes('nw-bad');
      res.writeHead(fail ? 404 : 200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          fail ? { error: 'UnknownUUIDResource', message: 'unknown uuid nw-bad', code: '100' } : { uuid: 'x' },
        ),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const status = await runVnctl(
      argv,
      { VNET_API: api },
      { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    );
    return { status, stdout, stderr };
  };

  test('runs every line in order, with the batch globals and each line own options', async () => {
    seen.length = 0;
    const file = join(dir, 'ok.vnctl');
    writeFileSync(file, '# two calls\nvnctl networks show nw-a\nnetworks show nw-b -o table\n');
    const r = await run(['batch', file, '-o', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(seen, ['GET /api/1.0/networks/nw-a', 'GET /api/1.0/networks/nw-b']);
    assert.equal(r.stdout, '{\n  "uuid": "x"\n}\nuuid  x\n');
  });

  test('stops at the first failing line, naming FILE:LINE, with its status', async () => {
    seen.length = 0;
    const file = join(dir, 'bad.vnctl');
    writeFileSync(file, 'networks show nw-a\n\nnetworks show nw-bad\nnetworks show nw-c\n');
    const r = await run(['batch', file]);
    assert.equal(r.status, 1);
    assert.equal(seen.length, 2);
    assert.equal(
      r.stderr,
      `vnctl: ${file}:3: GET /api/1.0/networks/nw-bad: 404 UnknownUUIDResource (code 100): unknown uuid nw-bad\n`,
    );
  });

  test('usage errors inside a batch carry the line and status 2', async () => {
    const file = join(dir, 'usage.vnctl');
    writeFileSync(file, 'networks show\nnetworks frob\n');
    const r = await run(['batch', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^vnctl: ${file}:2: unknown verb or relation 'frob'`));
    writeFileSync(file, 'batch other\n');
    assert.match((await run(['batch', file])).stderr, /:1: batch cannot run batch/);
    writeFileSync(file, 'networks show\nnetworks show "x\n');
    const q = await run(['batch', file]);
    assert.equal(q.status, 2);
    assert.match(q.stderr, new RegExp(`^vnctl: ${file}:2: unterminated double quote\\n$`));
  });

  test('a missing file is a usage error naming it', async () => {
    const r = await run(['batch', join(dir, 'nope')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /batch: cannot read .*nope: ENOENT/);
  });
});
