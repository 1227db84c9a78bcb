// vnet lab from the command line (bin/vnet, i.e. dist/): up, exec, status, down and smoke leave nothing behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { cleanupLeftovers } from '../../src/lab/lab.js';
import { leftovers, rootLinks, testPrefix } from './helpers.js';

const used: string[] = [];
function prefix(tag: string): string {
  const p = testPrefix(tag);
  used.push(p);
  return p;
}

after(async () => {
  for (const p of used) await cleanupLeftovers(p);
});

test('vnet lab up / exec ping / down leaves no namespaces, processes, veths or run dirs', () => {
  const p = prefix('c');
  const before = rootLinks();
  const vnet = (...args: string[]) => spawnSync('bin/vnet', ['lab', ...args], { encoding: 'utf8', timeout: 60000 });
  try {
    const up = vnet('up', '--hosts', '2', '--vms', '2', '--prefix', p);
    assert.equal(up.status, 0, up.stderr + up.stdout);
    // It says what it made: hosts with underlay IPs, VMs with IPs, how to exec.
    assert.match(up.stdout, /h1 .*underlay 192\.168\.100\.1\b/);
    assert.match(up.stdout, /h2 .*underlay 192\.168\.100\.2\b/);
    assert.match(up.stdout, /vm1 .*on h1 .*10\.0\.0\.11\/24/);
    assert.match(up.stdout, /vm2 .*on h2 .*10\.0\.0\.12\/24/);
    assert.match(up.stdout, new RegExp(`vnet lab exec --prefix ${p} vm1 -- ping -c1 10\\.0\\.0\\.12`));

    const ping = vnet('exec', '--prefix', p, 'vm1', '--', 'ping', '-c1', '-W5', '10.0.0.12');
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /1 received/);
    // The command's own exit status comes back (ping to nobody: 1; a shell: 7).
    assert.equal(vnet('exec', '--prefix', p, 'vm1', '--', 'ping', '-c1', '-W1', '10.0.0.99').status, 1);
    assert.equal(vnet('exec', '--prefix', p, 'vm2', '--', 'sh', '-c', 'exit 7').status, 7);
    const unknown = vnet('exec', '--prefix', p, 'vm9', '--', 'true');
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /unknown node 'vm9'/);

    const status = vnet('status', '--prefix', p, '--json');
    assert.equal(status.status, 0, status.stderr);
    const st = JSON.parse(status.stdout) as { hosts: { ovsdbPid: number | null; vswitchdPid: number | null }[] };
    assert.equal(st.hosts.length, 2);
    assert.ok(
      st.hosts.every((h) => h.ovsdbPid && h.vswitchdPid),
      'both hosts run their OVS daemons',
    );
    const second = vnet('up', '--prefix', p);
    assert.notEqual(second.status, 0, 'a second lab over a running one is refused');
    assert.match(second.stderr, /already up/);
  } finally {
    const down = vnet('down', '--prefix', p);
    assert.equal(down.status, 0, down.stderr);
  }
  assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
  assert.deepEqual(rootLinks(), before, 'the root namespace has exactly the interfaces it had');
  const again = vnet('down', '--prefix', p);
  assert.equal(again.status, 0, 'down twice is fine');
  const gone = vnet('exec', '--prefix', p, 'vm1', '--', 'true');
  assert.notEqual(gone.status, 0);
  assert.match(gone.stderr, /no lab with prefix/);
});

test('vnet lab smoke: GRE and VXLAN both ways, then nothing left', () => {
  const p = prefix('s');
  const r = spawnSync('bin/vnet', ['lab', 'smoke', '--prefix', p], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^PASS {2}gre: .* 12\/12 echoes gre-encapsulated/m);
  assert.match(r.stdout, /^PASS {2}vxlan: .* 12\/12 echoes vxlan-encapsulated/m);
  assert.match(r.stdout, /lab smoke: ok/);
  assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
});

test('vnet lab up --uplinks --internet: every host gets an uplink, the router reaches the internet host; down removes it all', () => {
  const p = prefix('n');
  const vnet = (...args: string[]) => spawnSync('bin/vnet', ['lab', ...args], { encoding: 'utf8', timeout: 60000 });
  try {
    const up = vnet('up', '--hosts', '2', '--vms', '0', '--no-plain', '--uplinks', '--internet', '--prefix', p);
    assert.equal(up.status, 0, up.stderr + up.stdout);
    for (const h of ['h1', 'h2']) {
      const ports = vnet(
        'exec',
        '--prefix',
        p,
        h,
        '--',
        'ovs-vsctl',
        '--db',
        `unix:/tmp/${p}/${h}/db.sock`,
        'list-ports',
        'br0',
      );
      assert.match(ports.stdout, /^ext0$/m, ports.stdout + ports.stderr);
    }
    const ping = vnet('exec', '--prefix', p, 'rtr', '--', 'ping', '-c1', '-W5', '198.51.100.10');
    assert.equal(ping.status, 0, ping.stdout + ping.stderr);
    const bad = vnet('up', '--hosts', '1', '--vms', '0', '--no-create-bridge', '--uplinks', '--prefix', `${p}b`);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--uplinks/);
  } finally {
    assert.equal(vnet('down', '--prefix', p).status, 0);
  }
  assert.deepEqual(leftovers(p), { namespaces: [], processes: [], dir: false, links: [] });
});
