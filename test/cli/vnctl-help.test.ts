// vnctl's generated help lists every resource, verb, relation and declared option, and bin/vnctl prints it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { helpText } from '../../src/cli/vnctl/help.js';
import { RESOURCES } from '../../src/cli/vnctl/table.js';

const dashed = (n: string) => n.replaceAll('_', '-');

test('top-level help lists every resource with its relations and actions', () => {
  const text = helpText({});
  for (const r of RESOURCES) {
    assert.match(text, new RegExp(`^  ${r.name}\\b`, 'm'), r.name);
    for (const rel of r.relations) assert.ok(text.includes(rel.name), `${r.name} ${rel.name}`);
  }
  for (const g of ['--api URL', '--output FMT', 'VNET_API', 'VNET_WEBAPI', 'Exit status'])
    assert.ok(text.includes(g), g);
});

test('resource help lists every verb and every declared option, dashed', () => {
  for (const r of RESOURCES) {
    const text = helpText({ resource: r });
    for (const verb of ['add', 'show', 'modify', 'del'])
      assert.ok(text.includes(`vnctl ${r.name} ${verb}`), `${r.name} ${verb}`);
    for (const o of [...r.add, ...r.modify, ...r.filters])
      assert.ok(text.includes(`--${dashed(o.name)}`), `${r.name} --${o.name}`);
    for (const a of r.actions) assert.ok(text.includes(`vnctl ${r.name} ${a.name}`), `${r.name} ${a.name}`);
    for (const rel of r.relations) {
      assert.ok(text.includes(`vnctl ${r.name} ${rel.name}`), `${r.name} ${rel.name}`);
      for (const o of rel.add?.options ?? [])
        assert.ok(text.includes(`--${dashed(o.name)}`), `${rel.name} --${o.name}`);
    }
  }
});

test('required options are marked in add and not in modify', () => {
  const dp = RESOURCES.find((r) => r.name === 'datapaths')!;
  const text = helpText({ resource: dp });
  const [addPart, rest] = text.split('vnctl datapaths show');
  assert.match(addPart!, /--node-id VALUE\s+.*\(required\)/);
  const modifyPart = rest!.split('vnctl datapaths modify')[1]!.split('vnctl datapaths del')[0]!;
  assert.ok(!modifyPart.includes('(required)'));
});

test('bin/vnctl --help and RESOURCE --help exit 0', () => {
  assert.ok(existsSync('dist/cli/vnctl.js'), 'dist/ is missing: npm run build first');
  const top = spawnSync('bin/vnctl', ['--help'], { encoding: 'utf8' });
  assert.equal(top.status, 0, top.stderr);
  assert.match(top.stdout, /network_services/);
  const res = spawnSync('bin/vnctl', ['network-service', '--help'], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /--interface-uuid VALUE/);
  const bad = spawnSync('bin/vnctl', ['frob', 'add'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, "vnctl: unknown resource 'frob' (see vnctl --help)\n");
});

test('bin/vnctl whose reader goes away (vnctl … | head -1) exits quietly', async () => {
  const child = spawn('bin/vnctl', ['interfaces', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const status = await new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  assert.equal(stderr, '');
  assert.equal(status, 0);
});
