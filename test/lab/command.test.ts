// `vnet lab` refuses bad input before touching anything: exit 2 and a message naming the field.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const vnet = (...args: string[]) => spawnSync('bin/vnet', ['lab', ...args], { encoding: 'utf8', timeout: 30000 });
const dir = mkdtempSync(join(tmpdir(), 'vnet-lab-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('vnet lab --help lists up, exec, status and down', () => {
  const r = vnet('--help');
  assert.equal(r.status, 0, r.stderr);
  for (const sub of ['up', 'exec', 'status', 'down']) assert.match(r.stdout, new RegExp(`\\b${sub}\\b`));
});

test('bad flags and topology files: exit 2, the field named, nothing created', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'hosts: [h1]\nvms: [{name: a, host: h9}]\n');
  const cases: [string[], RegExp][] = [
    [['up', '--hosts', 'abc'], /--hosts: must be a whole number/],
    [['up', '--hosts', '0'], /hosts: 0 must be 1\.\.50/],
    [['up', '--prefix', 'Bad-1'], /prefix: 'Bad-1' must match/],
    [['up', '--topology', join(dir, 'missing.yaml')], /--topology: ENOENT/],
    [['up', '--topology', bad], /vms\[0\]\.host: 'h9' is not one of the hosts/],
    [['up', '--underlay', '10.1.2.3', '--prefix', 'zzbad'], /underlay: "10\.1\.2\.3" is not a\.b\.c\.d\/len/],
    [['down', '--prefix', 'a-b'], /prefix: 'a-b'/],
  ];
  for (const [args, msg] of cases) {
    const r = vnet(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
  }
});

test('exec, status and down of a lab that does not exist', () => {
  const exec = vnet('exec', '--prefix', 'zznolab', 'vm1', '--', 'true');
  assert.equal(exec.status, 1);
  assert.match(exec.stderr, /no lab with prefix 'zznolab' is up/);
  assert.equal(vnet('status', '--prefix', 'zznolab').status, 1);
  const down = vnet('down', '--prefix', 'zznolab');
  assert.equal(down.status, 0, 'down of nothing is fine (idempotent)');
  assert.match(down.stdout, /0 namespaces deleted/);
});
