// Lab benchmark (issue 17): N concurrent TCP connections through one SNAT address without loss. h1 is the gateway
// (uplink, snat for tenant a), h2 holds the VMs; the internet host runs a server that accepts every connection,
// sends one byte on it and echoes what it is sent. The VMs open N connections in all (at most --window handshakes
// in flight per VM), each must get its byte, and all stay open together; then every one is sent a byte and must
// echo it back (the gateway's N translations all live at once). The gateway's conntrack zone and refused-packet
// counter are read from its ovs-vswitchd (unixctl) and the agent's snat_refused flow, as the agent's metrics do.
// Needs root; builds its own lab.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/snat-connections.ts [--conns 20000] [--vms 2]
//     [--ports 4] [--window 256]
import { join } from 'node:path';
import { COOKIE_MASK_EXACT, cookieFor, TABLE } from '../src/agent/pipeline/index.js';
import { Cluster } from '../src/demo/cluster.js';
import { northSouthApiCalls, TENANTS } from '../src/demo/north-south.js';
import type { LabProcess } from '../src/lab/processes.js';
import { conntrackTable, conntrackZoneConnections } from '../src/unixctl/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const CONNS = arg('conns', 20_000);
const VMS = arg('vms', 2);
const PORTS = arg('ports', 4);
const WINDOW = arg('window', 256);
const BASE_PORT = 9000;

/** The internet host's server: accepts everything, sends b"k" on each new connection, echoes what it reads. */
const SERVER = `
import resource, selectors, socket, sys
_h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]; resource.setrlimit(resource.RLIMIT_NOFILE, (_h, _h))
sel = selectors.DefaultSelector()
for p in range(int(sys.argv[1]), int(sys.argv[1]) + int(sys.argv[2])):
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("0.0.0.0", p)); l.listen(4096); l.setblocking(False)
    sel.register(l, selectors.EVENT_READ, "listen")
print("listening", flush=True)
while True:
    for key, _ in sel.select():
        s = key.fileobj
        if key.data == "listen":
            while True:
                try:
                    c, _ = s.accept()
                except BlockingIOError:
                    break
                c.setblocking(False)
                try:
                    c.send(b"k")
                except OSError:
                    c.close(); continue
                sel.register(c, selectors.EVENT_READ, "conn")
        else:
            try:
                d = s.recv(16)
            except OSError:
                d = b""
            if d:
                try: s.send(d)
                except OSError: pass
            else:
                sel.unregister(s); s.close()
`;

/** A VM's client: n connections (window in flight), each must read b"k"; all held; then each must echo b"p". */
const CLIENT = `
import resource, selectors, socket, sys, time
_h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]; resource.setrlimit(resource.RLIMIT_NOFILE, (_h, _h))
host, base, nports, n, window = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
sel = selectors.DefaultSelector()
held, failed, started, pending = [], 0, 0, 0
t0 = time.time()
while len(held) + failed < n:
    while pending < window and started < n:
        s = socket.socket(); s.setblocking(False)
        s.connect_ex((host, base + started % nports)); started += 1
        sel.register(s, selectors.EVENT_READ, time.time()); pending += 1
    now = time.time()
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        try:
            d = s.recv(1)
        except OSError:
            d = b""
        sel.unregister(s); pending -= 1
        if d == b"k":
            held.append(s)
        else:
            failed += 1; s.close()
    for key in list(sel.get_map().values()):
        if now - key.data > 60:
            sel.unregister(key.fileobj); key.fileobj.close(); pending -= 1; failed += 1
opened = time.time() - t0
# Every connection at once: a byte each way on all of them.
for s in held:
    sel.register(s, selectors.EVENT_READ)
    s.send(b"p")
echoed, t1 = 0, time.time()
while echoed < len(held) and time.time() - t1 < 120:
    for key, _ in sel.select(timeout=1):
        try:
            d = key.fileobj.recv(1)
        except OSError:
            d = b""
        sel.unregister(key.fileobj)
        if d == b"p":
            echoed += 1
print(f"opened {len(held)} failed {failed} in {opened:.1f} s; echoed {echoed} of {len(held)} in {time.time() - t1:.1f} s", flush=True)
time.sleep(600)
`;

const prefix = `dsc${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1', 'h2'] });
const lab = cluster.lab;
try {
  const dps = await cluster.waitDatapaths();
  await lab.addUplink('h1');
  const { router, inet } = await lab.addInternet();
  await cluster.apply(
    northSouthApiCalls({
      upstreamMac: router.mac,
      uplinks: [{ host: 'h1', datapath: String(dps.get('h1')!.uuid), gatewayPriority: 200 }],
      tenants: [TENANTS[0]!],
    }),
  );
  for (let i = 0; i < VMS; i++) {
    const mac = `02:00:00:0c:00:${(16 + i).toString(16)}`;
    const ip = `10.0.0.${10 + i}`;
    await cluster.call('POST', '/interfaces', {
      uuid: `if-c${i}`,
      network_uuid: 'nw-a',
      ipv4_address: ip,
      mac_address: mac,
    });
    await lab.addVm({
      name: `c${i}`,
      host: 'h2',
      mac,
      ip: `${ip}/24`,
      gateway: '10.0.0.1',
      port: `if-c${i}`,
      mtu: 1450,
    });
  }
  await cluster.waitInSync(30_000);
  // One server process per port: a process may hold 20,000 descriptors here (ulimit -Hn).
  for (let p = 0; p < PORTS; p++)
    await lab.spawn(inet.name, `server${p}`, ['python3', '-c', SERVER, String(BASE_PORT + p), '1']);
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 0; i < VMS; i++) await lab.waitPing(`c${i}`, inet.ip!, { timeoutMs: 30_000 });

  const snat = await cluster.call<{ ct_zone: number }>('GET', '/translations/tr-snata');
  const ctl = join(lab.host('h1').dir, 'ovs-vswitchd.ctl');
  const zoneBefore = await conntrackZoneConnections(ctl, snat.ct_zone).catch((e) => `? (${e})`);
  const load = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(
    `${CONNS} connections from ${VMS} VMs to ${PORTS} ports of the internet host, window ${WINDOW}, load ${load}`,
  );
  const t0 = performance.now();
  // Each client holds its connections (10 min) after its line: the figures below are read while all are open.
  const per = Math.ceil(CONNS / VMS);
  const clients = Array.from({ length: VMS }, (_, i) =>
    lab.spawn(`c${i}`, 'client', [
      'python3',
      '-c',
      CLIENT,
      inet.ip!,
      String(BASE_PORT),
      String(PORTS),
      String(per),
      String(WINDOW),
    ]),
  );
  const procs = await Promise.all(clients);
  const lines: string[] = [];
  for (const p of procs) lines.push(await waitLine(p, /echoed/, 900_000));
  const elapsed = (performance.now() - t0) / 1000;
  const zone = await conntrackZoneConnections(ctl, snat.ct_zone);
  const table = await conntrackTable(ctl);
  console.log(lines.map((l) => `  ${l}`).join('\n'));
  console.log(`  all clients done in ${elapsed.toFixed(1)} s`);
  console.log(
    `  gateway zone ${snat.ct_zone}: ${zone} connections (before: ${zoneBefore}); table ${table.connections} of ${table.max}`,
  );
  // Lab tooling looks at the flow's counter (what the agent reads over OpenFlow for its metrics).
  const refused = await lab
    .host('h1')
    .ofctl(
      'dump-flows',
      lab.host('h1').bridge,
      `cookie=0x${cookieFor('translation', 'tr-snata', 'snat_refused').toString(16)}/0x${COOKIE_MASK_EXACT.toString(16)},table=${TABLE.snat_result}`,
    );
  console.log(`  refused (snat_result drop flow): ${/n_packets=(\d+)/.exec(refused)?.[1] ?? refused.trim()}`);
  const load2 = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
  console.log(`  load after: ${load2}`);
  for (const p of procs) await p.stop().catch(() => undefined);
} finally {
  await cluster.down();
}

async function waitLine(p: LabProcess, re: RegExp, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const line = p
      .logTail(50)
      .split('\n')
      .find((l) => re.test(l));
    if (line) return line;
    if (!p.alive()) return `exited: ${p.logTail(10)}`;
    if (Date.now() - t0 > timeoutMs) return `timed out: ${p.logTail(10)}`;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
