// Issue 19 item 5: promiscuous interfaces on real OVS. A "legacy" L2 network — two machines (o1, o2) on the lab's
// provider switch, a learning OVS bridge of its own — is attached to h1's bridge through one port (`prom0`), made a
// promiscuous interface through the API and bridged into nw-a with the static PUT OpenVNet's promiscuous_nw
// dataset sends. VMs of nw-a on h1 and h2 reach both outside machines (ARP and ping both ways); nw-b, with the same
// addresses, reaches none of them. Then the same port is bridged into a segment instead (promiscuous_seg).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { addInterfaceVm, assertE2eEnvironment, labPrefix } from './helpers.js';

const PROM_PORT = 'prom0';
/** The outside machines: not in any model, learned by h1's switch behind prom0. */
const OUT = [
  { name: 'o1', ip: '10.101.0.101', mac: '02:00:00:0e:00:01' },
  { name: 'o2', ip: '10.101.0.102', mac: '02:00:00:0e:00:02' },
] as const;

interface Vm {
  name: string;
  uuid: string;
  host: string;
  mac: string;
  ip: string;
  /** Network (with an IP lease) or segment (the VM sets its own address). */
  network?: string;
  segment?: string;
}

/** nw-a and nw-b both 10.101.0.0/24, a VM of each on h1 and h2 with the same addresses; s1/s2 on seg-p. */
const VMS: Vm[] = [
  { name: 'a1', uuid: 'if-pa1', host: 'h1', mac: '02:00:00:0a:00:01', ip: '10.101.0.11', network: 'nw-a' },
  { name: 'a2', uuid: 'if-pa2', host: 'h2', mac: '02:00:00:0a:00:02', ip: '10.101.0.12', network: 'nw-a' },
  { name: 'b1', uuid: 'if-pb1', host: 'h1', mac: '02:00:00:0b:00:01', ip: '10.101.0.11', network: 'nw-b' },
  { name: 'b2', uuid: 'if-pb2', host: 'h2', mac: '02:00:00:0b:00:02', ip: '10.101.0.12', network: 'nw-b' },
  { name: 's1', uuid: 'if-ps1', host: 'h1', mac: '02:00:00:5e:00:01', ip: '10.101.0.21', segment: 'seg-p' },
  { name: 's2', uuid: 'if-ps2', host: 'h2', mac: '02:00:00:5e:00:02', ip: '10.101.0.22', segment: 'seg-p' },
];
const vm = (name: string) => VMS.find((v) => v.name === name)!;

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('prom'), hosts: ['h1', 'h2'], encap: 'gre' });
  const dps = await cluster.waitDatapaths();
  for (const uuid of ['nw-a', 'nw-b'])
    await cluster.call('POST', '/networks', {
      uuid,
      ipv4_network: '10.101.0.0',
      ipv4_prefix: 24,
      network_mode: 'virtual',
    });
  await cluster.call('POST', '/segments', { uuid: 'seg-p', mode: 'virtual' });
  for (const v of VMS)
    await addInterfaceVm(cluster, { ...v, fields: { mode: 'vif', port_name: v.uuid }, selfAddressed: true });
  // The legacy network: its own learning switch with two machines, reached from h1's bridge through prom0.
  await cluster.lab.addUplink('h1', { port: PROM_PORT });
  for (const o of OUT) await cluster.lab.addExternal({ name: o.name, ip: `${o.ip}/24`, mac: o.mac });
  // OpenVNet's promiscuous_nw: the interface (port and owner datapath only), then its static network association.
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-prom',
    mode: 'promiscuous',
    port_name: PROM_PORT,
    owner_datapath_uuid: dps.get('h1')!.uuid,
  });
  await cluster.call('PUT', '/interfaces/if-prom/networks/nw-a', { static: true });
});

after(async () => {
  await cluster?.down();
});

/** Flows of both hosts, agent log tails (cluster.diagnostics) and an ofproto/trace of an echo from `from`. */
async function report(from: string, dstIp: string, dstMac = 'ff:ff:ff:ff:ff:ff'): Promise<string> {
  const parts = [await cluster.diagnostics()];
  try {
    const v = VMS.find((x) => x.name === from);
    const o = OUT.find((x) => x.name === from);
    const host = v ? v.host : 'h1';
    const port = v ? v.uuid : PROM_PORT;
    const mac = v ? v.mac : o!.mac;
    const ip = v ? v.ip : o!.ip;
    const ofport = (await cluster.lab.host(host).vsctl('get', 'Interface', port, 'ofport')).trim();
    const flow = `in_port=${ofport},icmp,dl_src=${mac},dl_dst=${dstMac},nw_src=${ip},nw_dst=${dstIp},nw_ttl=64,icmp_type=8`;
    parts.push(`--- ofproto/trace ${host} ${flow}\n${await cluster.lab.trace(host, flow)}`);
  } catch (err) {
    parts.push(`--- trace failed: ${String(err)}`);
  }
  try {
    parts.push(`--- provider switch fdb\n${await cluster.lab.segmentOvs().appctl('fdb/show', 'seg')}`);
  } catch (err) {
    parts.push(`--- fdb failed: ${String(err)}`);
  }
  return parts.join('\n');
}

async function assertReaches(from: string, dstIp: string, timeoutMs = 20_000): Promise<void> {
  const r = await cluster.lab.waitPing(from, dstIp, { timeoutMs });
  if (!r.ok) assert.fail(`${from} -> ${dstIp} got no reply within ${timeoutMs} ms\n${await report(from, dstIp)}`);
}

async function assertNotReached(from: string, dstIp: string): Promise<void> {
  const r = await cluster.lab.ping(from, dstIp, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0) assert.fail(`${from} -> ${dstIp} was answered but must not be\n${await report(from, dstIp)}`);
}

/** The MAC `node` has learned by ARP for `ip` (or a failure with the neighbour table). */
async function assertNeighbour(node: string, ip: string, mac: string): Promise<void> {
  const neigh = await cluster.lab.run(node, ['ip', 'neigh', 'show', ip]);
  assert.match(neigh, new RegExp(mac), `${node}: ${ip} should be ${mac}: ${neigh}`);
}

async function learnedOnH1(): Promise<string[]> {
  const h1 = cluster.lab.host('h1');
  const flows = await h1.ofctl('dump-flows', h1.bridge);
  return flows.split('\n').filter((l) => /priority=70,/.test(l) && l.includes('idle_timeout'));
}

describe('a promiscuous port bridging a legacy L2 network into a virtual network', () => {
  test('both agents converge with the promiscuous port bound on h1 and no errors', async () => {
    try {
      await cluster.waitInSync(30_000);
    } catch (err) {
      assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
    }
    for (const dp of await cluster.datapaths()) assert.equal(dp.last_error, null, `${dp.node_id}: ${dp.last_error}`);
    const prom = await cluster.call<Record<string, unknown>>('GET', '/interfaces/if-prom');
    assert.equal(prom.mode, 'promiscuous');
    assert.equal(prom.network_uuid, 'nw-a');
    const rows = await cluster.call<{ items?: unknown[] } | unknown[]>('GET', '/interfaces/if-prom/networks');
    assert.match(JSON.stringify(rows), /"network_uuid":"nw-a".*"static":true/);
  });

  test('VMs of the network on h1 and on h2 reach both outside machines (ARP and ping)', async () => {
    for (const from of ['a1', 'a2'])
      for (const o of OUT) {
        await assertReaches(from, o.ip);
        await assertNeighbour(from, o.ip, o.mac);
      }
  });

  test('the outside machines reach the VMs on both hosts; the switch answers their ARP for VM addresses', async () => {
    for (const o of OUT)
      for (const to of ['a1', 'a2']) {
        await cluster.lab.run(o.name, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
        await assertReaches(o.name, vm(to).ip);
        await assertNeighbour(o.name, vm(to).ip, vm(to).mac);
      }
  });

  test("h1's switch learned the outside MACs (learn(), idle timeout) into the network's l2_lookup", async () => {
    const learned = await learnedOnH1();
    for (const o of OUT)
      assert.ok(
        learned.some((l) => l.includes(`dl_dst=${o.mac}`)),
        `no learned flow for ${o.mac}:\n${learned.join('\n')}`,
      );
    assert.ok(
      learned.every((l) => /idle_timeout=300/.test(l)),
      learned.join('\n'),
    );
  });

  test('an agent restart leaves what the switch learned alone: the new agent changes no flow', async () => {
    assert.ok((await learnedOnH1()).length >= 2);
    await cluster.stopAgent('h1', 'SIGTERM');
    await cluster.startAgent('h1');
    const agent = cluster.agents.get('h1')!;
    for (let i = 0; i < 600 && !agent.logTail(400).includes('in sync since process start'); i++)
      await new Promise((r) => setTimeout(r, 100));
    await cluster.waitInSync(30_000);
    const log = agent.logTail(400);
    assert.match(log, /read installed flows from the switch/);
    // A learned flow deleted (or the learning flow rewritten) would be a flow mod; the dump read them as they are.
    assert.doesNotMatch(log, /flows reconciled/, `the restarted agent changed flows:\n${log}`);
    const learned = await learnedOnH1();
    for (const o of OUT)
      assert.ok(
        learned.some((l) => l.includes(`dl_dst=${o.mac}`)),
        learned.join('\n'),
      );
  });

  test('VMs of the other network with the same addresses reach none of them, and not one frame crosses', async () => {
    for (const from of ['b1', 'b2']) for (const o of OUT) await assertNotReached(from, o.ip);
    // While b2 asks for o1's address, o1 sees nothing; while o1 pings a2's address (b2's in nw-b), b2 sees nothing.
    await cluster.lab.run('b2', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    const atO1 = await cluster.lab.capture('o1', 'eth0', `ether host ${vm('b2').mac}`, () =>
      cluster.lab.ping('b2', OUT[0].ip, { count: 2, intervalS: 0.2, timeoutS: 1 }),
    );
    assert.equal(atO1.count, 0, `o1 saw nw-b's frames:\n${atO1.lines.join('\n')}`);
    await cluster.lab.run('o1', ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    const atB2 = await cluster.lab.capture('b2', 'eth0', `ether host ${OUT[0].mac}`, () =>
      cluster.lab.ping('o1', vm('a2').ip, { count: 3, intervalS: 0.1 }),
    );
    assert.equal(atB2.result.received, 3, `o1 -> a2 ${atB2.result.output}\n${await report('o1', vm('a2').ip)}`);
    assert.equal(atB2.count, 0, `b2 saw the outside's frames:\n${atB2.lines.join('\n')}`);
  });
});

describe('the same port bridging the legacy network into a segment (promiscuous_seg)', () => {
  before(async () => {
    // OpenVNet's promiscuous_seg datasets: the interface is put on the segment with a static PUT. The port moves:
    // its static network association goes first (an interface is on a network or on a segment).
    await cluster.call('PUT', '/interfaces/if-prom/networks/nw-a', { static: false });
    await cluster.call('PUT', '/interfaces/if-prom/segments/seg-p', { static: true });
    for (const o of OUT) await cluster.lab.run(o.name, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  });

  test('segment VMs on h1 and h2 reach both outside machines and are reached by them', async () => {
    try {
      await cluster.waitInSync(30_000);
    } catch (err) {
      assert.fail(`${String(err)}\n${await cluster.diagnostics()}`);
    }
    for (const from of ['s1', 's2'])
      for (const o of OUT) {
        await assertReaches(from, o.ip);
        await assertNeighbour(from, o.ip, o.mac);
      }
    // On a segment the switch answers no ARP: the VMs do, across the tunnel for s2.
    for (const o of OUT)
      for (const to of ['s1', 's2']) {
        await assertReaches(o.name, vm(to).ip);
        await assertNeighbour(o.name, vm(to).ip, vm(to).mac);
      }
  });

  test('the network it left reaches the outside no more: what h1 learned for it went with the port', async () => {
    // a1 and a2 still hold the outside MACs from ARP: their unicast meets no learned flow and no unknown-unicast one.
    for (const from of ['a1', 'a2']) for (const o of OUT) await assertNotReached(from, o.ip);
    const nwA = await cluster.call<{ tunnel_key: number }>('GET', '/networks/nw-a');
    const stale = (await learnedOnH1()).filter((l) => l.includes(`metadata=0x${nwA.tunnel_key.toString(16)}/`));
    assert.deepEqual(stale, [], 'no learned flow of nw-a is left');
  });
});
