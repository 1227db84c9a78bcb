// Issue 6 "Done when" 6: a VM that spoofs another MAC or IP, or sends gratuitous ARP for another
// address, reaches nobody and poisons no one (tcpdump in the victims, their neighbour tables).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addNet1Vm, addSeedVm, assertE2eEnvironment, assertReaches, labPrefix, seedVm } from './helpers.js';

/** A third VM in net1 (on the other host): the would-be victim of ARP poisoning. */
const NS7 = { name: 'ns7', uuid: 'if-veth7', ip: '172.16.1.7', mac: '52:54:00:0d:84:07' };
const ns1 = seedVm('ns1');
const ns2 = seedVm('ns2');

// Sends raw Ethernet frames from inside a VM (what a compromised guest can do): args are the
// interface, a count and hex frames.
const SEND_RAW = `
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(int(sys.argv[2])):
    for f in sys.argv[3:]:
        s.send(bytes.fromhex(f))
`;

const hex = (mac: string) => mac.replaceAll(':', '');
const ipHex = (ip: string) =>
  ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('');

/** An Ethernet+ARP frame (RFC 826), all fields chosen by the sender. */
function arpFrame(o: {
  ethSrc: string;
  ethDst: string;
  op: 1 | 2;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}) {
  return `${hex(o.ethDst)}${hex(o.ethSrc)}0806000108000604000${o.op}${hex(o.sha)}${ipHex(o.spa)}${hex(o.tha)}${ipHex(o.tpa)}`;
}

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('esec'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await addSeedVm(cluster, 'ns1', 'h1');
  await addSeedVm(cluster, 'ns2', 'h2');
  await addSeedVm(cluster, 'ns4', 'h2');
  await addNet1Vm(cluster, NS7, 'h2');
  await cluster.waitInSync(20_000);
  // ns7 knows ns2 (a neighbour entry worth poisoning); everyone reaches everyone legitimately.
  await assertReaches(cluster, 'ns7', ns2.ip);
  await assertReaches(cluster, 'ns1', ns2.ip);
  await assertReaches(cluster, 'ns1', NS7.ip);
  await assertReaches(cluster, 'ns1', '172.16.2.4');
});

after(async () => {
  await cluster?.down();
});

async function neighbourMac(vm: string, ip: string): Promise<string | null> {
  const r = await cluster.lab.exec(vm, ['ip', '-j', 'neigh', 'show', ip, 'dev', 'eth0']);
  const rows = JSON.parse(r.stdout || '[]') as { lladdr?: string }[];
  return rows.find((x) => x.lladdr)?.lladdr ?? null;
}

/** Packets matching `filter` seen on the eth0 of each victim while `action` runs. */
async function seenBy(victims: string[], filter: string, action: () => Promise<unknown>): Promise<number[]> {
  if (victims.length === 0) {
    await action();
    return [];
  }
  const [v, ...rest] = victims;
  const cap = await cluster.lab.capture(v!, 'eth0', filter, () => seenBy(rest, filter, action));
  if (cap.count > 0) process.stderr.write(`${v} saw:\n${cap.lines.join('\n')}\n`);
  return [cap.count, ...cap.result];
}

test("a VM using another VM's MAC reaches nobody", async () => {
  const lab = cluster.lab;
  await lab.run('ns1', ['ip', 'link', 'set', 'eth0', 'address', ns2.mac]);
  try {
    const counts = await seenBy(['ns2', 'ns7', 'ns4'], `icmp or (arp and ether src ${ns2.mac})`, async () => {
      for (const dst of [NS7.ip, '172.16.2.4']) {
        const r = await lab.ping('ns1', dst, { count: 3, intervalS: 0.2, timeoutS: 1 });
        assert.equal(r.received, 0, `spoofed MAC reached ${dst}`);
      }
    });
    assert.deepEqual(counts, [0, 0, 0]);
  } finally {
    await lab.run('ns1', ['ip', 'link', 'set', 'eth0', 'address', ns1.mac]);
    await lab.run('ns1', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  }
  await assertReaches(cluster, 'ns1', NS7.ip);
});

test("a VM using another VM's IP (or an unleased one) reaches nobody", async () => {
  const lab = cluster.lab;
  for (const fake of [ns2.ip, '172.16.1.99']) {
    await lab.run('ns1', ['ip', 'addr', 'add', `${fake}/32`, 'dev', 'eth0']);
    try {
      const counts = await seenBy(['ns7', 'ns4', 'ns2'], `icmp and src host ${fake}`, async () => {
        for (const dst of [NS7.ip, '172.16.2.4']) {
          const raw = await lab.exec('ns1', ['ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', '-I', fake, dst]);
          assert.notEqual(raw.code, 0, `ping from spoofed ${fake} to ${dst} was answered:\n${raw.stdout}`);
        }
      });
      assert.deepEqual(counts, [0, 0, 0], `spoofed source ${fake} got through`);
    } finally {
      await lab.run('ns1', ['ip', 'addr', 'del', `${fake}/32`, 'dev', 'eth0']);
    }
  }
  await assertReaches(cluster, 'ns1', NS7.ip);
});

test('gratuitous or forged ARP for another address poisons no one', async () => {
  const lab = cluster.lab;
  assert.equal(await neighbourMac('ns7', ns2.ip), ns2.mac);
  const bcast = 'ff:ff:ff:ff:ff:ff';
  const frames = [
    // Gratuitous ARP (request form) claiming ns2's address is at ns1.
    arpFrame({
      ethSrc: ns1.mac,
      ethDst: bcast,
      op: 1,
      sha: ns1.mac,
      spa: ns2.ip,
      tha: '00:00:00:00:00:00',
      tpa: ns2.ip,
    }),
    // Gratuitous ARP (reply form), same claim.
    arpFrame({ ethSrc: ns1.mac, ethDst: bcast, op: 2, sha: ns1.mac, spa: ns2.ip, tha: bcast, tpa: ns2.ip }),
    // A unicast forged reply straight at ns7.
    arpFrame({ ethSrc: ns1.mac, ethDst: NS7.mac, op: 2, sha: ns1.mac, spa: ns2.ip, tha: NS7.mac, tpa: NS7.ip }),
    // Forged hardware address too (ns2's MAC in sha, a fake MAC in the Ethernet source).
    arpFrame({
      ethSrc: '52:54:00:99:99:99',
      ethDst: bcast,
      op: 2,
      sha: '52:54:00:99:99:99',
      spa: ns2.ip,
      tha: bcast,
      tpa: ns2.ip,
    }),
  ];
  // ARP claiming ns2's address (sender protocol address, arp[14:4]) not sent by ns2 itself.
  const filter = `arp and arp[14:4] = 0x${ipHex(ns2.ip)} and not ether src ${ns2.mac}`;
  const counts = await seenBy(['ns7', 'ns2'], filter, async () => {
    const r = await lab.exec('ns1', ['python3', '-c', SEND_RAW, 'eth0', '3', ...frames]);
    assert.equal(r.code, 0, r.stderr);
  });
  assert.deepEqual(counts, [0, 0], 'forged ARP arrived');
  assert.equal(await neighbourMac('ns7', ns2.ip), ns2.mac, "ns7's entry for ns2 was poisoned");
  await assertReaches(cluster, 'ns7', ns2.ip);
});
