// Issue 17 item 4: SNAT port exhaustion shows as a counter, never as silent loss. The gateway h1 translates with a
// deliberately small source-port range (`--snat-ports`, 4 ports); a VM on h2 holds 4 TCP connections to one port
// of the internet host, and a 5th to the same destination finds no free port: OVS's userspace conntrack hands it
// back untranslated (and counts nothing), the pipeline drops it in snat_result, and the agent's metrics show the
// zone's connections, its port range and the refused packets. The same VM still reaches another port (a port
// range is per destination), and the internet host never sees an inside address.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Cluster } from '../../src/demo/cluster.js';
import { northSouthApiCalls, TENANTS } from '../../src/demo/north-south.js';
import type { LabInternetHandles } from '../../src/lab/lab.js';
import { freePort } from '../lib/free-port.js';
import { sampleValue } from '../lib/prometheus-text.js';
import { waitFor } from '../lib/wait-for.js';
import { assertE2eEnvironment, labPrefix } from './helpers.js';

const METRICS_PORT = 9102;
const PORTS = { min: 20000, max: 20003 };
const VM = { name: 'x1', host: 'h2', ip: '10.0.0.10', mac: '02:00:00:0a:00:10' };
/** The internet host's listeners: never accepting, the kernel completes handshakes into the backlog. */
const HELD = 9000;
const OTHER = 9001;

let cluster: Cluster;
let net: LabInternetHandles;
let metricsUrl = '';

const scrape = async () => (await fetch(metricsUrl)).text();
const metric = async (name: string) => sampleValue(await scrape(), name, { translation: 'tr-snata' });

/** Python in the VM: open `n` connections to port `port` (5 s each at most); prints one line per attempt, holds. */
const connector = (n: number, port: number, holdS: number) => `
import socket, sys, time
held = []
for i in range(${n}):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect((sys.argv[1], ${port}))
        held.append(s)
        print("ok", flush=True)
    except Exception as e:
        print("fail " + type(e).__name__, flush=True)
time.sleep(${holdS})
`;

before(async () => {
  assertE2eEnvironment();
  cluster = await Cluster.start({ prefix: labPrefix('snex'), hosts: ['h1', 'h2'], startAgents: false });
  const lab = cluster.lab;
  await cluster.startAgent('h1', [
    '--snat-ports',
    `${PORTS.min}-${PORTS.max}`,
    '--metrics-listen',
    `127.0.0.1:${METRICS_PORT}`,
  ]);
  await cluster.startAgent('h2');
  const port = await freePort();
  await lab.forward({ from: { node: 'root', port }, to: { node: 'h1', port: METRICS_PORT } });
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const dps = await cluster.waitDatapaths();
  await lab.addUplink('h1');
  net = await lab.addInternet();
  await cluster.apply(
    northSouthApiCalls({
      upstreamMac: net.router.mac,
      uplinks: [{ host: 'h1', datapath: String(dps.get('h1')!.uuid), gatewayPriority: 200 }],
      tenants: [TENANTS[0]!],
    }),
  );
  await cluster.call('POST', '/interfaces', {
    uuid: `if-${VM.name}`,
    network_uuid: 'nw-a',
    ipv4_address: VM.ip,
    mac_address: VM.mac,
  });
  await lab.addVm({
    name: VM.name,
    host: VM.host,
    mac: VM.mac,
    ip: `${VM.ip}/24`,
    gateway: '10.0.0.1',
    port: `if-${VM.name}`,
    mtu: 1450,
  });
  await cluster.waitInSync(30_000);
  for (const p of [HELD, OTHER])
    await lab.spawn(net.inet.name, `hold${p}`, [
      'python3',
      '-c',
      `import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(("0.0.0.0",${p}))\ns.listen(4096)\ntime.sleep(3600)`,
    ]);
  // The way out works before anything is exhausted.
  await waitFor(
    async () => (await lab.exec(VM.name, ['ping', '-q', '-n', '-c1', '-W', '1', net.inet.ip!])).ok,
    'the VM reaches the internet host through SNAT',
    { timeoutMs: 30_000 },
  );
});

after(async () => {
  await cluster?.down();
});

test('a 5th connection to one destination through 4 source ports is refused, dropped and counted', async () => {
  const lab = cluster.lab;
  const capture = lab.exec(net.router.name, [
    'timeout',
    '25',
    'tcpdump',
    '-n',
    '-l',
    '-i',
    'any',
    'tcp and net 10.0.0.0/8',
  ]);
  // 4 connections fill the range for inet:HELD; the 5th times out (its SYNs are dropped at the gateway).
  const holding = lab.exec(VM.name, ['python3', '-c', connector(5, HELD, 30), net.inet.ip!], { timeoutMs: 60_000 });
  const refused = await waitFor(
    async () => {
      const v = await metric('vnet_agent_snat_refused_packets_total').catch(() => undefined);
      return v !== undefined && v > 0 ? v : null;
    },
    'the refused-packet counter to move',
    { timeoutMs: 40_000, everyMs: 500 },
  );
  assert.ok(refused >= 1);
  assert.equal(await metric('vnet_agent_snat_ports'), PORTS.max - PORTS.min + 1);
  const connections = await waitFor(
    async () => {
      const v = await metric('vnet_agent_snat_connections');
      return v !== undefined && v >= 4 ? v : null;
    },
    'the zone to show the 4 held connections',
    { timeoutMs: 20_000, everyMs: 500 },
  );
  assert.ok(connections >= 4, `connections ${connections}`);
  const text = await scrape();
  assert.ok((sampleValue(text, 'vnet_agent_conntrack_max') ?? 0) > 0, 'the table size is read');
  // Another destination port has its own 4 ports: the range is per destination.
  const other = await lab.exec(VM.name, ['python3', '-c', connector(1, OTHER, 0), net.inet.ip!], { timeoutMs: 30_000 });
  assert.match(other.stdout, /^ok$/m, other.stdout + other.stderr);
  const out = (await holding).stdout;
  assert.equal(out.match(/^ok$/gm)?.length, 4, out);
  assert.match(out, /^fail /m, out);
  // Nothing left the gateway with an inside address (the refused SYNs did not leak untranslated).
  const seen = (await capture).stdout;
  assert.doesNotMatch(seen, /10\.0\.0\.10\./, seen);
});
