// Issue 17 item 5 / issue 19: port translations and OpenVNet's form of static address translations, on real OVS.
// Two lab hosts: h1 has an uplink on the external VLAN-10 network and is its gateway; h2 has VMs only. Tenant a's
// router (the north-south demo's) takes VMs a1 (h2: its translations are served at the gateway h1, reached over
// the tunnel) and a2 (h1: served on its own host). Each VM runs a TCP and a UDP service on port 80 answering with
// the client address it sees; the internet host (behind the lab's upstream router) calls them from outside.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { EXTERNAL, northSouthApiCalls } from '../../src/demo/north-south.js';
import type { LabInternetHandles } from '../../src/lab/lab.js';
import { waitFor } from '../lib/wait-for.js';
import { addInterfaceVm, assertE2eEnvironment, labPrefix } from './helpers.js';

const VMS = [
  { name: 'a1', host: 'h2', ip: '10.0.0.10', mac: '02:00:00:0a:00:10', fip: '192.168.10.70', outPort: 8080 },
  { name: 'a2', host: 'h1', ip: '10.0.0.11', mac: '02:00:00:0a:00:11', fip: '192.168.10.71', outPort: 8081 },
];
const TENANT_A_GATEWAY = '192.168.10.11';

// The VM's services: TCP and UDP on port 80, each answering with "<proto> <client address>".
const SERVICE = `
import socket, threading
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', 80))
    while True:
        d, a = u.recvfrom(2048); u.sendto(('udp %s' % a[0]).encode(), a)
threading.Thread(target=udp, daemon=True).start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 80)); s.listen(16)
while True:
    c, a = s.accept(); c.sendall(('tcp %s' % a[0]).encode()); c.close()
`;
// The client: prints what the service said and the address:port the answer came from (UDP unconnected, so a
// reply from any other source would show as such rather than be filtered by the socket).
const CLIENT = `
import socket, sys
proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if proto == 'tcp':
    s = socket.create_connection((host, port), timeout=2); d = s.recv(200); a = s.getpeername()
else:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2); u.sendto(b'hi', (host, port)); d, a = u.recvfrom(200)
print('%s from %s:%d' % (d.decode(), a[0], a[1]))
`;

let cluster: Cluster;
let net: LabInternetHandles;
const dpOf = new Map<string, string>();

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('xlate'), hosts: ['h1', 'h2'], startAgents: true });
  const lab = cluster.lab;
  for (const [host, dp] of await cluster.waitDatapaths()) dpOf.set(host, String(dp.uuid));
  await lab.addUplink('h1');
  net = await lab.addInternet();
  await cluster.apply(
    northSouthApiCalls({
      upstreamMac: net.router.mac,
      uplinks: [{ host: 'h1', datapath: dpOf.get('h1')!, gatewayPriority: 100 }],
    }),
  );
  for (const v of VMS) {
    await addInterfaceVm(cluster, { ...v, network: 'nw-a', gateway: '10.0.0.1', mtu: 1450 });
    await lab.spawn(v.name, 'service', ['python3', '-c', SERVICE]);
  }
  await cluster.waitInSync(30_000);
});

after(async () => {
  await cluster?.down();
});

/** What the internet host gets calling `host:port` over `proto`: "tcp 198.51.100.10 from 192.168.10.70:8080". */
async function call(proto: 'tcp' | 'udp', host: string, port: number): Promise<string | null> {
  const r = await cluster.lab.exec('inet', ['python3', '-c', CLIENT, proto, host, String(port)]);
  return r.ok ? r.stdout.trim() : null;
}

const INET = () => net.inet.ip!;

test('port translations: the outside address:port reaches the VM on its own port (TCP and UDP), replies come from the outside address:port', async () => {
  for (const v of VMS) {
    await cluster.call('POST', '/translations', { uuid: `tr-p${v.name}`, interface_uuid: `if-${v.name}` });
    await cluster.call('POST', `/translations/tr-p${v.name}/static_address`, {
      ingress_ipv4_address: v.ip,
      egress_ipv4_address: v.fip,
      ingress_port_number: 80,
      egress_port_number: v.outPort,
    });
  }
  for (const v of VMS)
    for (const proto of ['tcp', 'udp'] as const) {
      const want = `${proto} ${INET()} from ${v.fip}:${v.outPort}`;
      try {
        await waitFor(async () => (await call(proto, v.fip, v.outPort)) === want, `${proto} ${v.fip}:${v.outPort}`, {
          timeoutMs: 20_000,
          everyMs: 200,
        });
      } catch (err) {
        assert.fail(
          `${String(err)}: got ${await call(proto, v.fip, v.outPort)}, want ${want}\n${await cluster.diagnostics()}`,
        );
      }
    }
  // The translations are served at the gateway h1 — for a1 (h2 has no uplink) and for a2 (its own host).
  for (const v of VMS)
    await waitFor(
      async () =>
        (await cluster.call<{ active_datapath_uuid: string | null }>('GET', `/translations/tr-p${v.name}`))
          .active_datapath_uuid === dpOf.get('h1'),
      `tr-p${v.name} active at h1`,
      { timeoutMs: 10_000, everyMs: 100 },
    );
});

test('port translations: unmapped ports of the outside address never reach the VM; its other traffic leaves through snat', async () => {
  const a1 = VMS[0]!;
  const cap = await cluster.lab.capture(a1.name, 'eth0', 'tcp or udp', async () => {
    const got: (string | null)[] = [];
    for (const [proto, port] of [
      ['tcp', 80],
      ['udp', 80],
      ['tcp', 22],
      ['udp', 5353],
      ['tcp', VMS[1]!.outPort],
    ] as const)
      got.push(await call(proto, a1.fip, port));
    return got;
  });
  assert.deepEqual(cap.result, [null, null, null, null, null], 'an unmapped port answered');
  assert.equal(cap.lines.length, 0, `the VM saw:\n${cap.lines.join('\n')}`);
  // Its connections from other ports are not the translation's: the tenant's snat address.
  const seen = (await cluster.lab.run(a1.name, ['curl', '-sS', '--max-time', '5', net.inet.url])).trim();
  assert.equal(seen, TENANT_A_GATEWAY);
});

test('port translations: removing the entry stops it at once', async () => {
  for (const v of VMS) {
    await cluster.call('DELETE', `/translations/tr-p${v.name}/static_address`, {
      ingress_ipv4_address: v.ip,
      egress_ipv4_address: v.fip,
      ingress_port_number: 80,
      egress_port_number: v.outPort,
    });
    // Calls right after the DELETE's answer: how long any still got through (the agents' flow update).
    const t0 = Date.now();
    let answered = 0;
    let lastAt = 0;
    await waitFor(
      async () => {
        if ((await call('tcp', v.fip, v.outPort)) === null) return true;
        answered++;
        lastAt = Date.now() - t0;
        return false;
      },
      `${v.fip}:${v.outPort} stopped`,
      { timeoutMs: 10_000, everyMs: 0 },
    );
    console.log(`# ${v.name} (${v.host}): ${answered} calls answered after the DELETE, the last ${lastAt} ms after it`);
    assert.equal(await call('udp', v.fip, v.outPort), null);
    await cluster.call('DELETE', `/translations/tr-p${v.name}`);
  }
});

test("OpenVNet's wanedge form: a translation on the external network's router interface (ingress outside, egress inside) takes effect", async () => {
  // As wanedge.yml: a routing interface on the physical network, pinned to the gateway host, holding the outside
  // addresses (its IP leases); its static addresses have ingress = the outside address, egress = the VM's.
  const a1 = VMS[0]!;
  const WHOLE = '192.168.10.75';
  const PORTS = '192.168.10.76';
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-wan',
    mode: 'simulated',
    network_uuid: EXTERNAL.uuid,
    owner_datapath_uuid: dpOf.get('h1'),
    enable_routing: true,
    enable_route_translation: true,
    mac_address: '02:00:10:00:fe:01',
    ipv4_address: WHOLE,
  });
  await cluster.call('POST', '/translations', { uuid: 'tr-wan', interface_uuid: 'if-wan', passthrough: false });
  await cluster.call('POST', '/translations/tr-wan/static_address', {
    ingress_ipv4_address: WHOLE,
    egress_ipv4_address: a1.ip,
    route_link_uuid: 'rl-a',
  });
  const inbound = await cluster.lab.waitPing('inet', WHOLE, { timeoutMs: 20_000 });
  if (!inbound.ok) assert.fail(`inet -> ${WHOLE} failed\n${inbound.output}\n${await cluster.diagnostics()}`);
  // It reached a1 itself (not answered by the router interface), from the internet host's own address.
  const cap = await cluster.lab.capture(a1.name, 'eth0', 'icmp', () =>
    cluster.lab.ping('inet', WHOLE, { count: 2, intervalS: 0.1 }),
  );
  assert.equal(cap.result.received, 2, cap.result.output);
  assert.ok(
    cap.lines.some((l) => l.includes(`${INET()} > ${a1.ip}: ICMP echo request`)),
    `a1 saw:\n${cap.lines.join('\n')}`,
  );
  // a1 leaves from the outside address, not its tenant's snat address; TCP from outside reaches it too.
  assert.equal((await cluster.lab.run(a1.name, ['curl', '-sS', '--max-time', '5', net.inet.url])).trim(), WHOLE);
  assert.equal(await call('tcp', WHOLE, 80), `tcp ${INET()} from ${WHOLE}:80`);
  // Its port form: ingress_port_number is the outside port, egress_port_number the VM's.
  await cluster.call('POST', '/translations/tr-wan/static_address', {
    ingress_ipv4_address: PORTS,
    egress_ipv4_address: VMS[1]!.ip,
    ingress_port_number: 2222,
    egress_port_number: 80,
    route_link_uuid: 'rl-a',
  });
  for (const proto of ['tcp', 'udp'] as const)
    await waitFor(async () => (await call(proto, PORTS, 2222)) === `${proto} ${INET()} from ${PORTS}:2222`, proto, {
      timeoutMs: 20_000,
      everyMs: 200,
    });
  assert.equal(await call('tcp', PORTS, 80), null);
  // The reverse direction on the router interface is vnet's VM form written on the wrong interface: refused.
  await assert.rejects(
    cluster.call('POST', '/translations/tr-wan/static_address', {
      ingress_ipv4_address: a1.ip,
      egress_ipv4_address: '192.168.10.77',
    }),
    /ingress_ipv4_address/,
  );
  await cluster.call('DELETE', '/translations/tr-wan');
  // (The router interface still holds the address: the switch answers its pings now, but nothing reaches a1.)
  await waitFor(async () => (await call('tcp', WHOLE, 80)) === null, `${WHOLE}:80 gone`, {
    timeoutMs: 10_000,
    everyMs: 0,
  });
  await waitFor(async () => (await call('tcp', PORTS, 2222)) === null, `${PORTS}:2222 gone`, {
    timeoutMs: 10_000,
    everyMs: 0,
  });
});
