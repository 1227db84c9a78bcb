// Lab smoke and lifecycle: VMs on two hosts ping through GRE and VXLAN; vnet lab up/exec/down leave nothing behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { leftovers, report, rootLinks, testPrefix } from './helpers.js';

const used: string[] = [];
function prefix(tag: string): string {
  const p = testPrefix(tag);
  used.push(p);
  return p;
}

after(async () => {
  // Belt and braces: whatever a failed test left is removed by prefix.
  for (const p of used) await cleanupLeftovers(p);
});

/** Count encapsulated ICMP echo requests/replies in tcpdump lines, by encapsulation. */
function classify(lines: string[]): { gre: number; vxlan: number; other: number } {
  const out = { gre: 0, vxlan: 0, other: 0 };
  for (const l of lines) {
    if (!/ICMP echo (request|reply)/.test(l)) continue;
    if (/GREv0, key=0x1\b/.test(l)) out.gre++;
    else if (/VXLAN.*vni 1\b/.test(l)) out.vxlan++;
    else out.other++;
  }
  return out;
}

test('two hosts: VMs ping each other through a GRE tunnel and through a VXLAN tunnel', async () => {
  const lab = await Lab.up(defaultTopology(2, 2), { prefix: prefix('a'), encap: 'gre' });
  try {
    const [vm1, vm2] = lab.vms() as [ReturnType<Lab['vm']>, ReturnType<Lab['vm']>];
    assert.notEqual(vm1.host, vm2.host, 'the two VMs sit on different hosts');
    for (const encap of ['gre', 'vxlan'] as const) {
      await lab.setEncap(encap);
      const first = await lab.waitPing('vm1', vm2.ip!, { timeoutMs: 15000 });
      assert.ok(first.ok, `${encap}: vm1 -> vm2 never answered\n${await report(lab, 'vm1', 'vm2')}`);
      // Everything on the underlay between the hosts, seen on h1's cable in the underlay netns.
      const cap = await lab.capture('ul', 'ul-h1', 'ip', async () => ({
        fwd: await lab.ping('vm1', vm2.ip!, { count: 3, intervalS: 0.05 }),
        back: await lab.ping('vm2', vm1.ip!, { count: 3, intervalS: 0.05 }),
      }));
      assert.ok(
        cap.result.fwd.ok,
        `${encap}: vm1 -> vm2\n${cap.result.fwd.output}\n${await report(lab, 'vm1', 'vm2')}`,
      );
      assert.ok(
        cap.result.back.ok,
        `${encap}: vm2 -> vm1\n${cap.result.back.output}\n${await report(lab, 'vm2', 'vm1')}`,
      );
      assert.ok(cap.result.fwd.rttMs !== undefined && cap.result.fwd.rttMs > 0, 'an RTT is measured');
      const seen = classify(cap.lines);
      // 6 requests + 6 replies crossed h1's underlay cable, all in the chosen encapsulation, key/VNI 1.
      assert.equal(seen[encap], 12, `${encap}: encapsulated echoes on the underlay\n${cap.lines.join('\n')}`);
      assert.equal(seen[encap === 'gre' ? 'vxlan' : 'gre'] + seen.other, 0, cap.lines.join('\n'));
    }
  } finally {
    await lab.down();
  }
  assert.deepEqual(leftovers(lab.prefix), { namespaces: [], processes: [], dir: false, links: [] });
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
    assert.match(unknown.stderr, /unknown host or VM 'vm9'/);

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
