// Lab benchmark of the DNS service through the switch and a real agent: one VM asks A queries over UDP (a python3
// client in the VM: one query in flight, then 8 in flight), answered from records by packet-in/packet-out; then
// over TCP (through the metadata port to the agent's listener: one connection for all queries, then a new
// connection per query, as `dig +tcp` makes); prints queries/s, p50/p99 latency, the agent's CPU and the machine's
// load. Needs root; builds its own one-host lab.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/dns.ts [--queries 2000]
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { Cluster } from '../src/demo/cluster.js';
import { seedApiCalls } from '../src/demo/seed.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const QUERIES = arg('queries', 2000);
const DNS_IP = '172.16.1.250';

/** CPU seconds used so far by a process (utime + stime from /proc). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// The client: `window` queries in flight, each a fresh id for the name `vm1`; prints one JSON line of results.
const CLIENT = `
import socket, struct, time, json, sys
n, window = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
q = lambda i: struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\\x03vm1\\x00\\x00\\x01\\x00\\x01"
sent = {}; lat = []; lost = 0; i = 0
t0 = time.time()
while i < n or sent:
    while i < n and len(sent) < window:
        i += 1; sent[i & 0xffff] = time.time(); s.sendto(q(i & 0xffff), ("${DNS_IP}", 53))
    try:
        d, _ = s.recvfrom(2048)
        k = struct.unpack(">H", d[:2])[0]
        if k in sent: lat.append(time.time() - sent.pop(k))
    except socket.timeout:
        lost += len(sent); sent.clear()
wall = time.time() - t0
lat.sort()
pct = lambda p: round(lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1000, 2) if lat else None
print(json.dumps({"answered": len(lat), "lost": lost, "wall_s": round(wall, 2), "qps": round(len(lat) / wall, 1), "p50_ms": pct(50), "p99_ms": pct(99)}))
`;

// The TCP client (RFC 7766 framing): one query in flight, on one connection (`reuse` 1) or a new one per query.
const TCP_CLIENT = `
import socket, struct, time, json, sys
n, reuse = int(sys.argv[1]), int(sys.argv[2]) == 1
q = lambda i: struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\\x03vm1\\x00\\x00\\x01\\x00\\x01"
def conn():
    c = socket.create_connection(("${DNS_IP}", 53), timeout=5); return c
def recvn(c, k):
    b = b""
    while len(b) < k:
        x = c.recv(k - len(b))
        if not x: raise OSError("closed")
        b += x
    return b
lat = []; lost = 0; c = None
t0 = time.time()
for i in range(1, n + 1):
    t = time.time()
    try:
        if c is None: c = conn()
        m = q(i & 0xffff); c.sendall(struct.pack(">H", len(m)) + m)
        d = recvn(c, struct.unpack(">H", recvn(c, 2))[0])
        if struct.unpack(">H", d[:2])[0] == i & 0xffff: lat.append(time.time() - t)
        else: lost += 1
    except OSError:
        lost += 1; c = None
    if not reuse and c is not None: c.close(); c = None
wall = time.time() - t0
lat.sort()
pct = lambda p: round(lat[min(len(lat) - 1, int(len(lat) * p / 100))] * 1000, 2) if lat else None
print(json.dumps({"answered": len(lat), "lost": lost, "wall_s": round(wall, 2), "qps": round(len(lat) / wall, 1), "p50_ms": pct(50), "p99_ms": pct(99)}))
`;

const prefix = `dnb${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1'] });
try {
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-dnsb',
    network_uuid: 'nw-net1',
    ipv4_address: DNS_IP,
    mac_address: '52:54:00:35:00:fb',
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: 'ns-dnsb', interface_uuid: 'if-dnsb', mode: 'dns' });
  await cluster.call('POST', '/dns_services', { uuid: 'dnss-b', network_service_uuid: 'ns-dnsb' });
  await cluster.call('POST', '/dns_services/dnss-b/dns_records', { name: 'vm1', ipv4_address: '172.16.1.1' });
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-vq',
    network_uuid: 'nw-net1',
    ipv4_address: '172.16.1.40',
    mac_address: '52:54:00:35:00:40',
  });
  await cluster.lab.addVm({ name: 'vq', host: 'h1', mac: '52:54:00:35:00:40', ip: '172.16.1.40/24', port: 'if-vq' });
  await cluster.waitInSync(30_000);
  const agentPid = cluster.agents.get('h1')!.pid;
  // Warm up (ARP, the flows' first packets).
  await cluster.lab.exec('vq', ['python3', '-c', CLIENT, '20', '1'], { timeoutMs: 60_000 });
  const runs = [
    { what: 'UDP, 1 in flight', script: CLIENT, arg: '1' },
    { what: 'UDP, 8 in flight', script: CLIENT, arg: '8' },
    { what: 'TCP, one connection', script: TCP_CLIENT, arg: '1' },
    { what: 'TCP, a connection per query', script: TCP_CLIENT, arg: '0' },
  ];
  for (const run of runs) {
    const c0 = cpuOf(agentPid);
    const r = await cluster.lab.run('vq', ['python3', '-c', run.script, String(QUERIES), run.arg], {
      timeoutMs: 600_000,
    });
    const res = JSON.parse(r.trim().split('\n').at(-1)!);
    const cpu = cpuOf(agentPid) - c0;
    console.log(
      `${run.what}: ${res.answered}/${QUERIES} answered (${res.lost} lost) in ${res.wall_s} s → ${res.qps} queries/s, ` +
        `p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms; agent CPU ${((cpu / res.wall_s) * 100).toFixed(0)}% ` +
        `(load ${loadavg()[0]!.toFixed(1)} on ${'2'} cores)`,
    );
  }
} finally {
  await cluster.down();
}
