// Issue 19 item 2, end to end on real OVS: OpenVNet's DNS service (a `dns` network service on a simulated interface,
// its dns_services row with records and public_dns) answers `dig` in VMs on two hosts through the agents
// (packet-in/packet-out): each VM resolves the other's name; a record deleted through the API stops resolving and
// one added resolves at once; names not in the records go to public_dns — dnsmasq in the lab's underlay — and are
// REFUSED without it; VMs with the same address in two networks each get their own network's answers; DHCP hands
// the service's address out as the DNS server. Over TCP (`dig +tcp`, through the agent's metadata port and
// listener) the answers are the same.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { seedApiCalls } from '../../src/demo/seed.js';
import { addDhcpService, addSeedVm, assertE2eEnvironment, failureReport, labPrefix } from './helpers.js';

/** net1 and net3 overlap (172.16.1.0/24): each has its DNS service at the same address. */
const DNS1 = { uuid: 'if-dns1', ip: '172.16.1.250', mac: '52:54:00:35:01:fa' };
const DNS3 = { uuid: 'if-dns3', ip: '172.16.1.250', mac: '52:54:00:35:03:fa' };
/** The upstream server: dnsmasq on the lab's underlay bridge, reached by the agents from their hosts. */
const UPSTREAM = { ip: '192.168.100.250', name: 'upstream.example', answer: '198.51.100.53' };

let cluster: Cluster;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('dns'), hosts: ['h1', 'h2'] });
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  for (const [svc, dnsIf, network] of [
    ['1', DNS1, 'nw-net1'],
    ['3', DNS3, 'nw-net3'],
  ] as const) {
    await cluster.call('POST', '/interfaces', {
      uuid: dnsIf.uuid,
      network_uuid: network,
      ipv4_address: dnsIf.ip,
      mac_address: dnsIf.mac,
      mode: 'simulated',
    });
    await cluster.call('POST', '/network_services', { uuid: `ns-dns${svc}`, interface_uuid: dnsIf.uuid, mode: 'dns' });
    await cluster.call('POST', '/dns_services', { uuid: `dnss-${svc}`, network_service_uuid: `ns-dns${svc}` });
  }
  // Each network's records: its VMs by name, and `who` with a different answer in each.
  for (const [name, ip] of [
    ['ns1', '172.16.1.1'],
    ['ns2', '172.16.1.2'],
    ['who', '10.1.1.1'],
  ])
    await cluster.call('POST', '/dns_services/dnss-1/dns_records', { name, ipv4_address: ip });
  for (const [name, ip] of [
    ['ns5', '172.16.1.1'],
    ['ns6', '172.16.1.2'],
    ['who', '10.3.3.3'],
  ])
    await cluster.call('POST', '/dns_services/dnss-3/dns_records', { name, ipv4_address: ip });
  await addDhcpService(cluster, { uuid: 'if-dhcp1', ip: '172.16.1.253', mac: '52:54:00:74:00:fd' }, 'ns-dhcp1');
  // net1: ns1 on h1, ns2 on h2; net3 (same addresses): ns5 on h1, ns6 on h2.
  for (const [vm, host] of [
    ['ns1', 'h1'],
    ['ns2', 'h2'],
    ['ns5', 'h1'],
    ['ns6', 'h2'],
  ] as const)
    await addSeedVm(cluster, vm, host);
  // The upstream: dnsmasq answering one name itself and refusing to recurse (there is no internet here).
  await cluster.lab.run('ul', ['ip', 'addr', 'add', `${UPSTREAM.ip}/24`, 'dev', 'ulbr']);
  // Its answers reach the hosts through their userspace OVS (br-phy), which passes a checksum-offloaded datagram on
  // with the partial sum, and the host's kernel drops it: the sender must checksum in software (as VMs' veths do).
  await cluster.lab.run('ul', ['ethtool', '-K', 'ulbr', 'tx', 'off']);
  const upstream = await cluster.lab.spawn('ul', 'dnsmasq', [
    'dnsmasq',
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-interfaces',
    `--listen-address=${UPSTREAM.ip}`,
    '--port=53',
    '--user=root',
    `--pid-file=${cluster.lab.dir}/dnsmasq.pid`,
    `--address=/${UPSTREAM.name}/${UPSTREAM.answer}`,
    '--log-queries',
    '--log-facility=-',
  ]);
  await cluster.waitInSync(30_000);
  // dnsmasq is up once it answers on its address.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await cluster.lab.exec('h1', dig(UPSTREAM.ip, UPSTREAM.name));
    if (r.stdout.includes(UPSTREAM.answer)) break;
    if (Date.now() > deadline) assert.fail(`dnsmasq does not answer: ${r.stdout}${r.stderr}\n${upstream.logTail(20)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
});

after(async () => {
  await cluster?.down();
});

/** dig's command line: one try, a generous timeout (loaded machine), the whole answer. */
function dig(server: string, name: string, type = 'A', tcp = false): string[] {
  return [
    'dig',
    `@${server}`,
    name,
    type,
    '+tries=2',
    '+time=3',
    '+noall',
    '+comments',
    '+answer',
    ...(tcp ? ['+tcp'] : []),
  ];
}

interface Answer {
  status: string;
  addresses: string[];
  raw: string;
}

async function resolve(vm: string, name: string, server = DNS1.ip, type = 'A', tcp = false): Promise<Answer> {
  const r = await cluster.lab.exec(vm, dig(server, name, type, tcp), { timeoutMs: 20_000 });
  const status = /status: ([A-Z]+)/.exec(r.stdout)?.[1] ?? `no answer (exit ${r.code})`;
  const addresses = r.stdout
    .split('\n')
    .filter((l) => /\sIN\s+A\s/.test(l) && !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/).at(-1)!);
  return { status, addresses, raw: `${r.stdout}${r.stderr}` };
}

async function expectAddresses(vm: string, name: string, want: string[], server = DNS1.ip): Promise<void> {
  const a = await resolve(vm, name, server);
  if (a.status !== 'NOERROR' || a.addresses.join() !== want.join())
    assert.fail(
      `${vm}: ${name} → ${a.status} ${a.addresses.join()} (want ${want.join()})\n${a.raw}\n${await failureReport(cluster)}`,
    );
}

/** Retries until the answer's status is `status` (a change reaches the agents through the feed). */
async function waitStatus(vm: string, name: string, status: string, timeoutMs = 15_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = await resolve(vm, name);
    if (a.status === status || Date.now() > deadline) return a;
    await new Promise((res) => setTimeout(res, 200));
  }
}

test("VMs on two hosts resolve each other's names through their network's DNS service", async () => {
  await expectAddresses('ns1', 'ns2', ['172.16.1.2']);
  await expectAddresses('ns2', 'ns1', ['172.16.1.1']);
  // The answer is usable: the VM reaches the address it was given.
  const a = await resolve('ns1', 'ns2');
  const ping = await cluster.lab.waitPing('ns1', a.addresses[0]!, { timeoutMs: 10_000 });
  assert.ok(ping.ok, ping.output);
  // A name the service holds, asked for another type: the name exists, no AAAA (NODATA), not REFUSED.
  const aaaa = await resolve('ns1', 'ns2', DNS1.ip, 'AAAA');
  assert.equal(aaaa.status, 'NOERROR', aaaa.raw);
  assert.deepEqual(aaaa.addresses, []);
});

test("VMs with the same address in two networks each get their own network's answers", async () => {
  await expectAddresses('ns1', 'who', ['10.1.1.1'], DNS1.ip);
  await expectAddresses('ns5', 'who', ['10.3.3.3'], DNS3.ip);
  await expectAddresses('ns2', 'who', ['10.1.1.1'], DNS1.ip);
  await expectAddresses('ns6', 'who', ['10.3.3.3'], DNS3.ip);
  // net3 has no record ns1, net1 none ns5: each network sees only its own records.
  assert.equal((await resolve('ns5', 'ns1', DNS3.ip)).status, 'REFUSED');
  assert.equal((await resolve('ns1', 'ns5', DNS1.ip)).status, 'REFUSED');
});

test('a deleted record stops resolving at once, and one added resolves', async () => {
  const records = await cluster.call<{ items?: { uuid: string; name: string }[] } | { uuid: string; name: string }[]>(
    'GET',
    '/dns_services/dnss-1/dns_records',
  );
  const list = Array.isArray(records) ? records : (records.items ?? []);
  const ns2 = list.find((r) => r.name === 'ns2');
  assert.ok(ns2, JSON.stringify(records));
  await cluster.call('DELETE', `/dns_services/dnss-1/dns_records/${ns2.uuid}`);
  const gone = await waitStatus('ns1', 'ns2', 'REFUSED');
  assert.equal(gone.status, 'REFUSED', gone.raw);
  await cluster.call('POST', '/dns_services/dnss-1/dns_records', { name: 'ns2', ipv4_address: '172.16.1.2' });
  const back = await waitStatus('ns1', 'ns2', 'NOERROR');
  assert.deepEqual(back.addresses, ['172.16.1.2'], back.raw);
});

test('names not in the records go to public_dns (a DNS server in the lab); without it they are REFUSED', async () => {
  assert.equal((await resolve('ns2', UPSTREAM.name)).status, 'REFUSED');
  await cluster.call('PUT', '/dns_services/dnss-1', { public_dns: UPSTREAM.ip });
  let a = await waitStatus('ns2', UPSTREAM.name, 'NOERROR');
  assert.deepEqual(a.addresses, [UPSTREAM.answer], a.raw);
  a = await resolve('ns1', UPSTREAM.name);
  assert.deepEqual(a.addresses, [UPSTREAM.answer], a.raw);
  // Records still come first.
  await expectAddresses('ns2', 'ns1', ['172.16.1.1']);
  // dnsmasq saw the agents' queries (from the hosts), never the VMs'.
  const log = cluster.lab
    .processes()
    .find((p) => p.name === 'dnsmasq')!
    .logTail(50);
  assert.match(log, new RegExp(`query\\[A\\] ${UPSTREAM.name.replace('.', '\\.')} from 192\\.168\\.100\\.`), log);
  // net3's service has no public_dns: the same name is REFUSED there.
  assert.equal((await resolve('ns5', UPSTREAM.name, DNS3.ip)).status, 'REFUSED');
  await cluster.call('PUT', '/dns_services/dnss-1', { public_dns: null });
  assert.equal((await waitStatus('ns2', UPSTREAM.name, 'REFUSED')).status, 'REFUSED');
});

test("DHCP hands out the DNS service's address as the DNS server", async () => {
  const lease = await cluster.lab.dhcp('ns1');
  assert.ok(lease.ok, lease.output);
  assert.deepEqual(lease.dns, [DNS1.ip], JSON.stringify(lease.env));
});

test('the agents counted the queries they answered', async () => {
  let answered = 0;
  for (const host of ['h1', 'h2']) {
    const agent = cluster.agents.get(host)!;
    process.kill(agent.pid, 'SIGUSR2');
    let events: Record<string, number> | undefined;
    for (let i = 0; i < 50 && !events; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const line = agent
        .logTail(300)
        .split('\n')
        .findLast((l) => l.includes('"dnsEvents"'));
      if (line) events = JSON.parse(line).status.counters.dnsEvents;
    }
    assert.ok(events, `no status in ${host}'s agent log`);
    assert.ok((events.forwarded ?? 0) >= 1 || host === 'h1', `${host}: ${JSON.stringify(events)}`);
    answered += events.answered ?? 0;
  }
  assert.ok(answered >= 8, `answered ${answered}`);
});

test('over TCP (dig +tcp) the answers are the same: records first, each network its own, then public_dns', async () => {
  const tcp = (vm: string, name: string, server = DNS1.ip) => resolve(vm, name, server, 'A', true);
  const expect = async (vm: string, name: string, server: string, status: string, want: string[]) => {
    const a = await tcp(vm, name, server);
    if (a.status !== status || a.addresses.join() !== want.join())
      assert.fail(
        `${vm} +tcp: ${name} → ${a.status} ${a.addresses.join()} (want ${status} ${want.join()})\n${a.raw}\n${await failureReport(cluster)}`,
      );
  };
  await expect('ns1', 'ns2', DNS1.ip, 'NOERROR', ['172.16.1.2']);
  await expect('ns2', 'ns1', DNS1.ip, 'NOERROR', ['172.16.1.1']);
  // Overlapping networks: the same VM address, the same service address, each network's own records.
  await expect('ns1', 'who', DNS1.ip, 'NOERROR', ['10.1.1.1']);
  await expect('ns5', 'who', DNS3.ip, 'NOERROR', ['10.3.3.3']);
  await expect('ns6', 'who', DNS3.ip, 'NOERROR', ['10.3.3.3']);
  await expect('ns1', UPSTREAM.name, DNS1.ip, 'REFUSED', []);
  await cluster.call('PUT', '/dns_services/dnss-1', { public_dns: UPSTREAM.ip });
  const deadline = Date.now() + 15_000;
  let a = await tcp('ns2', UPSTREAM.name);
  while (a.status !== 'NOERROR' && Date.now() < deadline) a = await tcp('ns2', UPSTREAM.name);
  assert.deepEqual(a.addresses, [UPSTREAM.answer], a.raw);
  await expect('ns1', 'ns2', DNS1.ip, 'NOERROR', ['172.16.1.2']);
  await cluster.call('PUT', '/dns_services/dnss-1', { public_dns: null });
});
