// The entry points answer --help and refuse unknown work with a non-zero status.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const run = (bin: string, ...args: string[]) => spawnSync(bin, args, { encoding: 'utf8' });

test('vnet --help lists the five subcommands', () => {
  const r = run('bin/vnet', '--help');
  assert.equal(r.status, 0, r.stderr);
  for (const sub of ['server', 'agent', 'lab', 'demo', 'dataset']) assert.match(r.stdout, new RegExp(`\\b${sub}\\b`));
});

test('vnet with an unknown subcommand exits non-zero', () => {
  const r = run('bin/vnet', 'frobnicate');
  assert.notEqual(r.status, 0);
});
