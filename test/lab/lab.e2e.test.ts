// Lab smoke: VMs on two hosts ping each other through GRE and through VXLAN, proven on the underlay wire.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupLeftovers, Lab } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { leftovers, report, testPrefix } from './helpers.js';

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
      // The default VM MTU (1450) fits both encapsulations on the 1500-byte underlay: a full-size,
      // don't-fragment packet crosses.
      const big = await lab.exec('vm1', ['ping', '-n', '-c', '1', '-W', '2', '-M', 'do', '-s', '1422', vm2.ip!]);
      assert.ok(big.ok, `${encap}: a 1450-byte packet did not cross\n${big.stdout}${big.stderr}`);
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

test('TCP across the tunnel does not stall (TX checksum offload off on both veth ends): iperf3 over GRE and VXLAN', async () => {
  const lab = await Lab.up(defaultTopology(2, 2), { prefix: prefix('t'), encap: 'gre' });
  try {
    const server = await lab.spawn('vm2', 'iperf3', ['iperf3', '-s', '-B', '10.0.0.12']);
    for (const encap of ['gre', 'vxlan'] as const) {
      await lab.setEncap(encap);
      assert.ok((await lab.waitPing('vm1', '10.0.0.12', { timeoutMs: 15000 })).ok, await report(lab, 'vm1', 'vm2'));
      let r = await lab.exec('vm1', ['iperf3', '-c', '10.0.0.12', '-t', '2', '-J', '--connect-timeout', '3000']);
      // The server may still be starting on the first round.
      for (let i = 0; i < 20 && !r.ok && /Connection refused/.test(r.stdout + r.stderr); i++) {
        await new Promise((res) => setTimeout(res, 100));
        r = await lab.exec('vm1', ['iperf3', '-c', '10.0.0.12', '-t', '2', '-J', '--connect-timeout', '3000']);
      }
      assert.ok(r.ok, `${encap}: iperf3 failed\n${r.stdout}${r.stderr}\n${server.logTail()}`);
      const res = JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number; bytes: number } } };
      const mbps = res.end.sum_received.bits_per_second / 1e6;
      process.stdout.write(`# lab ${encap}: TCP ${mbps.toFixed(0)} Mbit/s vm1@h1 -> vm2@h2 (iperf3, 2 s)\n`);
      // A stalled connection (checksum offload left on) moves a few KB; a working one many MB.
      assert.ok(res.end.sum_received.bytes > 5_000_000, `${encap}: only ${res.end.sum_received.bytes} bytes arrived`);
    }
  } finally {
    await lab.down();
  }
});

test('two labs side by side (same underlay and VM addresses, different prefixes) stay apart; down of one spares the other', async () => {
  const [x, y] = await Promise.all([
    Lab.up(defaultTopology(2, 2), { prefix: prefix('x') }),
    Lab.up(defaultTopology(2, 2), { prefix: prefix('y') }),
  ]);
  try {
    for (const l of [x, y])
      assert.ok((await l.waitPing('vm1', '10.0.0.12', { timeoutMs: 15000 })).ok, await report(l, 'vm1', 'vm2'));
    // y's traffic never appears on x's underlay. (x's own interfaces may send an IGMP report of their own
    // while coming up: that is x's traffic, not y's, and not what this checks.)
    const cap = await x.capture('ul', 'ul-h1', 'ip and not igmp', () =>
      y.ping('vm1', '10.0.0.12', { count: 3, intervalS: 0.05 }),
    );
    assert.ok(cap.result.ok);
    assert.equal(cap.count, 0, cap.lines.join('\n'));
    await x.down();
    assert.deepEqual(leftovers(x.prefix), { namespaces: [], processes: [], dir: false, links: [] });
    const still = await y.ping('vm1', '10.0.0.12', { count: 2, intervalS: 0.05 });
    assert.ok(still.ok, `lab y broke when x went down\n${await report(y, 'vm1', 'vm2')}`);
    assert.equal(y.status().hosts.filter((h) => h.ovsdbPid && h.vswitchdPid).length, 2);
  } finally {
    await x.down();
    await y.down();
  }
});
