// Lab benchmark of DHCP through a real agent: leases per second by one agent, and another VM's lease
// time while one VM floods 1,000 DISCOVERs/s (python3 raw-socket sender). Needs root; builds its own lab.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/dhcp-lab.ts [--vms 12] [--rounds 5]
import { readFileSync } from 'node:fs';
import { Cluster } from '../src/demo/cluster.js';
import { seedApiCalls } from '../src/demo/seed.js';
import { buildUdpFrame, DHCP_MESSAGE_TYPE, encodeDhcp, toHex, u8Option } from '../src/packet/index.js';
import { pct } from './lib/stats.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const VMS = arg('vms', 12);
const ROUNDS = arg('rounds', 5);

const mac = (i: number) =>
  `52:54:00:0b:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const ip = (i: number) => `172.16.1.${100 + i}`;

/** CPU seconds used so far by a process (utime + stime from /proc). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const prefix = `dbl${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1'], encap: 'vxlan' });
try {
  const dps = await cluster.waitDatapaths();
  await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));
  await cluster.call('POST', '/interfaces', {
    uuid: 'if-dhcpb',
    network_uuid: 'nw-net1',
    ipv4_address: '172.16.1.250',
    mac_address: '52:54:00:74:00:fb',
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: 'ns-dhcpb', interface_uuid: 'if-dhcpb', mode: 'dhcp' });
  // VM 0 floods; VMs 1.. lease.
  for (let i = 0; i <= VMS; i++) {
    await cluster.call('POST', '/interfaces', {
      uuid: `if-b${i}`,
      network_uuid: 'nw-net1',
      ipv4_address: ip(i),
      mac_address: mac(i),
    });
    await cluster.lab.addVm({ name: `b${i}`, host: 'h1', mac: mac(i), ip: null, mtu: 1500, port: `if-b${i}` });
  }
  await cluster.waitInSync(30_000);
  const agentPid = cluster.agents.get('h1')!.pid;

  // 1. Leases completed per second by one agent: every VM asks at once.
  {
    const t0 = performance.now();
    const leases = await Promise.all(
      Array.from({ length: VMS }, (_, k) => cluster.lab.dhcp(`b${k + 1}`, { apply: false })),
    );
    const secs = (performance.now() - t0) / 1000;
    const ok = leases.filter((l) => l.ok).length;
    console.log(
      `leases completed by one agent: ${ok}/${VMS} in ${secs.toFixed(2)} s → ${(ok / secs).toFixed(1)} leases/s (includes udhcpc start-up)`,
    );
    console.log(
      `  single lease times: p50 ${pct(
        leases.map((l) => l.elapsedMs),
        50,
      )} ms, max ${Math.max(...leases.map((l) => l.elapsedMs))} ms`,
    );
  }

  // 2. Baseline lease time of one VM, then the same under a 1,000/s DISCOVER flood from b0.
  const victim = 'b1';
  const base: number[] = [];
  for (let r = 0; r < ROUNDS; r++) base.push((await cluster.lab.dhcp(victim, { apply: false })).elapsedMs);
  console.log(`victim lease, no flood: p50 ${pct(base, 50)} ms, max ${Math.max(...base)} ms`);

  const frame = buildUdpFrame({
    srcMac: mac(0),
    dstMac: 'ff:ff:ff:ff:ff:ff',
    srcIp: '0.0.0.0',
    dstIp: '255.255.255.255',
    srcPort: 68,
    dstPort: 67,
    payload: encodeDhcp({
      op: 1,
      htype: 1,
      hops: 0,
      xid: 0x0f100d,
      secs: 0,
      flags: 0,
      ciaddr: '0.0.0.0',
      yiaddr: '0.0.0.0',
      siaddr: '0.0.0.0',
      giaddr: '0.0.0.0',
      chaddr: mac(0),
      sname: '',
      file: '',
      options: [u8Option(53, DHCP_MESSAGE_TYPE.DISCOVER)],
    }),
  });
  const sender = await cluster.lab.spawn('b0', 'flood', [
    'python3',
    '-c',
    `import socket,time\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(("eth0",0))\nf=bytes.fromhex("${toHex(frame)}")\nt0=time.time();n=0;shown=0\nwhile True:\n  due=int((time.time()-t0)*1000)\n  while n<due:\n    s.send(f);n+=1\n  time.sleep(0.001)\n  if n-shown>=500: shown=n;print("sent",n,"in",round(time.time()-t0,1),"s",flush=True)`,
  ]);
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const c0 = cpuOf(agentPid);
    const t0 = performance.now();
    const flood: number[] = [];
    let failed = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const l = await cluster.lab.dhcp(victim, { apply: false, tries: 10 });
      if (l.ok) flood.push(l.elapsedMs);
      else failed++;
    }
    const wall = (performance.now() - t0) / 1000;
    console.log(
      `victim lease under a 1,000/s DISCOVER flood: ${flood.length}/${ROUNDS} leased, p50 ${pct(flood, 50)} ms, max ${flood.length ? Math.max(...flood) : Number.NaN} ms, ${failed} gave up after 10 tries (target < 1000 ms)`,
    );
    console.log(`agent CPU during the flood: ${(((cpuOf(agentPid) - c0) / wall) * 100).toFixed(1)} % of one core`);
    console.log(`flood sender: ${sender.logTail(1).trim()}`);
    // The switch's own count of what each DHCP meter passed and dropped (ovs-ofctl only looks).
    const h1 = cluster.lab.host('h1');
    const stats = await h1.ofctl('-O', 'OpenFlow13', 'meter-stats', h1.bridge);
    // "meter:N … packet_in_count:I …bands:" then "0: packet_count:D …" (D = dropped by the band).
    const meters = [...stats.matchAll(/meter[:=](\d+)[^\n]*packet_in_count:(\d+)[^\n]*\n\s*0: packet_count:(\d+)/g)]
      .map((m) => ({ id: Number(m[1]), seen: Number(m[2]), dropped: Number(m[3]) }))
      .sort((a, b) => b.seen - a.seen);
    for (const m of meters.slice(0, 3))
      console.log(
        `  ${m.id === 1 ? 'bridge-wide meter 1' : `port meter ${m.id}`}: ${m.seen} DHCP packets seen, ${m.dropped} dropped`,
      );
  } finally {
    await sender.stop();
  }
} finally {
  await cluster.down();
}
