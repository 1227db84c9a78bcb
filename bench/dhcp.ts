// Benchmark of the DHCP responder: leases per second, context derivation cost, and a 1,000 DISCOVERs/s flood.
//   node --import tsx bench/dhcp.ts [--json]
import { buildModelView, type FeedResources } from '../src/agent/pipeline/model-view.js';
import { modelDhcpView } from '../src/agent/runtime/dhcp-service.js';
import {
  type DhcpContext,
  DhcpModel,
  type DhcpResources,
  DhcpResponder,
  dhcpContext,
  dhcpContextFrom,
} from '../src/dhcp/index.js';
import { buildUdpFrame, DHCP_MESSAGE_TYPE, encodeDhcp, ipv4ListOption, u8Option } from '../src/packet/index.js';
import { pct } from './lib/stats.js';

const json = process.argv.includes('--json');

function macOf(i: number): string {
  return `52:54:00:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

/** A frame shaped like udhcpc's (300-byte payload, client id, max size, parameter list). */
function request(mac: string, type: number, xid: number, requested?: string, server?: string): Uint8Array {
  const options = [u8Option(53, type)];
  if (requested) options.push(ipv4ListOption(50, [requested]), ipv4ListOption(54, [server ?? '10.0.0.2']));
  options.push(
    { code: 57, data: Uint8Array.of(2, 64) },
    { code: 55, data: Uint8Array.of(1, 3, 6, 12, 15, 28, 42) },
    { code: 60, data: new TextEncoder().encode('udhcp 1.35.0') },
    { code: 61, data: Uint8Array.from([1, ...mac.split(':').map((h) => Number.parseInt(h, 16))]) },
  );
  const payload = encodeDhcp({
    op: 1,
    htype: 1,
    hops: 0,
    xid,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: mac,
    sname: '',
    file: '',
    options,
  });
  return buildUdpFrame({
    srcMac: mac,
    dstMac: 'ff:ff:ff:ff:ff:ff',
    srcIp: '0.0.0.0',
    dstIp: '255.255.255.255',
    srcPort: 68,
    dstPort: 67,
    payload,
  });
}

/** `n` VMs spread over 10 networks of a route link, each network with DHCP, DNS and router interfaces. */
function model(n: number): DhcpResources {
  const networks = [];
  const interfaces = [];
  const services = [];
  const routes = [];
  const lease = (mac: string, nw: string, ip: string) => [
    {
      uuid: `ml-${mac}`,
      mac_address: mac,
      ip_leases: [{ uuid: `il-${ip}-${nw}`, network_uuid: nw, ipv4_address: ip }],
    },
  ];
  for (let k = 0; k < 10; k++) {
    const nw = `nw-${k}`;
    networks.push({
      uuid: nw,
      ipv4_network: `10.${k}.0.0`,
      ipv4_prefix: 16,
      domain_name: `n${k}.example`,
      mtu: null,
      dns_servers: '8.8.8.8',
      dhcp_lease_time: 86400,
    });
    interfaces.push({
      uuid: `if-dhcp${k}`,
      mode: 'simulated',
      mac_address: `02:00:00:00:${k.toString(16).padStart(2, '0')}:02`,
      mac_leases: lease(`02:00:00:00:${k.toString(16).padStart(2, '0')}:02`, nw, `10.${k}.0.2`),
    });
    interfaces.push({
      uuid: `if-router${k}`,
      mode: 'simulated',
      enable_routing: true,
      mac_address: `02:00:00:00:${k.toString(16).padStart(2, '0')}:01`,
      mac_leases: lease(`02:00:00:00:${k.toString(16).padStart(2, '0')}:01`, nw, `10.${k}.0.1`),
    });
    services.push({ uuid: `ns-dhcp${k}`, mode: 'dhcp', interface_uuid: `if-dhcp${k}` });
    routes.push({
      uuid: `r-${k}`,
      interface_uuid: `if-router${k}`,
      route_link_uuid: 'rl-1',
      network_uuid: nw,
      ipv4_network: `10.${k}.0.0`,
      ipv4_prefix: 16,
      ingress: true,
      egress: true,
    });
  }
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    const mac = macOf(i + 1);
    interfaces.push({
      uuid: `if-vm${i}`,
      mode: 'vif',
      mac_address: mac,
      mac_leases: lease(mac, `nw-${k}`, `10.${k}.${1 + ((i / 10) >> 8)}.${(i / 10) & 0xff}`),
    });
  }
  return { networks, interfaces, network_services: services, routes } as unknown as DhcpResources;
}

function now(): number {
  return performance.now();
}

/** CPU seconds of this process: the machine is shared, so figures are CPU time, not wall time. */
function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const results: Record<string, number | string> = {};
function report(key: string, value: number, unit: string, what: string): void {
  results[key] = Math.round(value * 100) / 100;
  if (!json) console.log(`${what.padEnd(64)} ${results[key]} ${unit}`);
}

// 1. Responder only: DISCOVER→OFFER + REQUEST→ACK with a prepared context.
{
  const VMS = 2000;
  const res = model(VMS);
  const ctxs: DhcpContext[] = [];
  const frames: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < VMS; i++) {
    const mac = macOf(i + 1);
    const ctx = dhcpContextFrom(res, `nw-${i % 10}`, mac, { encapsulation: 'vxlan', underlayMtu: 1500 })!;
    ctxs.push(ctx);
    frames.push([
      request(mac, DHCP_MESSAGE_TYPE.DISCOVER, i),
      request(mac, DHCP_MESSAGE_TYPE.REQUEST, i, ctx.client!.ipv4Address!, ctx.server.ipv4Address),
    ]);
  }
  const r = new DhcpResponder();
  for (let i = 0; i < 2000; i++) r.handle(frames[i % VMS]![0], ctxs[i % VMS]!); // warm up
  const ROUNDS = 20_000;
  const t0 = cpuNow();
  for (let i = 0; i < ROUNDS; i++) {
    const [d, q] = frames[i % VMS]!;
    const ctx = ctxs[i % VMS]!;
    if (r.handle(d, ctx).event !== 'offer' || r.handle(q, ctx).event !== 'ack') throw new Error('lease failed');
  }
  const secs = cpuNow() - t0;
  report(
    'leases_per_s_responder',
    ROUNDS / secs,
    'leases/s',
    'leases/s, responder only (DISCOVER+REQUEST, context prepared)',
  );
  report('us_per_message', (secs / (2 * ROUNDS)) * 1e6, 'µs', 'cost per handled DHCP message');

  // 2. The agent's whole path: a context per message read from the agent's model (its ModelView indices,
  // kept current by the feed), then the answer.
  const agentView = modelDhcpView(buildModelView(res as unknown as FeedResources));
  const FULL = 20_000;
  const c1 = cpuNow();
  for (let i = 0; i < FULL; i++) {
    const mac = macOf((i % VMS) + 1);
    const [d, q] = frames[i % VMS]!;
    r.handle(d, dhcpContext(agentView, `nw-${i % 10}`, mac, { encapsulation: 'vxlan', underlayMtu: 1500 })!);
    r.handle(q, dhcpContext(agentView, `nw-${i % 10}`, mac, { encapsulation: 'vxlan', underlayMtu: 1500 })!);
  }
  const agentSecs = cpuNow() - c1;
  report(
    'leases_per_s_agent_model_2000_vms',
    FULL / agentSecs,
    'leases/s',
    "leases/s, context per message from the agent's model (2,000 VMs)",
  );
  const c2 = cpuNow();
  const held = new DhcpModel(res);
  const build = cpuNow() - c2;
  report('ms_model_build_2000_vms', build * 1000, 'ms', 'DhcpModel build for a 2,000-VM model (once per revision)');
  const c3 = cpuNow();
  for (let i = 0; i < ROUNDS; i++) {
    const mac = macOf((i % VMS) + 1);
    const [d, q] = frames[i % VMS]!;
    r.handle(d, held.context(`nw-${i % 10}`, mac, { encapsulation: 'vxlan', underlayMtu: 1500 })!);
    r.handle(q, held.context(`nw-${i % 10}`, mac, { encapsulation: 'vxlan', underlayMtu: 1500 })!);
  }
  const heldSecs = cpuNow() - c3;
  report(
    'leases_per_s_held_model_2000_vms',
    ROUNDS / heldSecs,
    'leases/s',
    'leases/s, held DhcpModel (2,000-VM model)',
  );
}

// 3. Flood: one VM sends 1,000 DISCOVERs/s (and one variant sends garbage) while another VM leases
// every 20 ms; packet-ins are handled FIFO on the event loop, as the agent does.
async function flood(kind: 'discover' | 'garbage'): Promise<void> {
  const m = new DhcpModel(model(2000));
  const r = new DhcpResponder();
  const floodMac = macOf(18); // VM 17: leased in nw-7, so every flood DISCOVER costs a full OFFER
  const victimMac = macOf(8);
  const floodFrame =
    kind === 'discover'
      ? request(floodMac, DHCP_MESSAGE_TYPE.DISCOVER, 1)
      : (() => {
          const f = request(floodMac, DHCP_MESSAGE_TYPE.DISCOVER, 1);
          f[42 + 236] = 0; // broken magic cookie: a typed decode error on every frame
          return f;
        })();
  const queue: { frame: Uint8Array; mac: string; at: number; done?: (ms: number) => void }[] = [];
  let busy = 0;
  let draining = false;
  const drain = () => {
    draining = false;
    const t0 = cpuNow();
    while (queue.length > 0) {
      const q = queue.shift()!;
      const ctx = m.context('nw-7', q.mac, { encapsulation: 'vxlan' });
      if (ctx) r.handle(q.frame, ctx);
      q.done?.(now() - q.at);
    }
    busy += (cpuNow() - t0) * 1000;
  };
  const enqueue = (q: (typeof queue)[number]) => {
    queue.push(q);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  };
  const DURATION = 3000;
  const start = now();
  let sent = 0;
  // 1,000/s paced by the clock: each 10 ms tick sends what is due.
  const ticker = setInterval(() => {
    const due = Math.floor(((now() - start) / 1000) * 1000);
    while (sent < due) {
      enqueue({ frame: floodFrame, mac: floodMac, at: now() });
      sent++;
    }
  }, 10);
  const leaseTimes: number[] = [];
  const victimCtx = m.context('nw-7', victimMac, { encapsulation: 'vxlan' })!;
  const lease = async () => {
    const t0 = now();
    await new Promise<void>((resolve) =>
      enqueue({
        frame: request(victimMac, DHCP_MESSAGE_TYPE.DISCOVER, 9),
        mac: victimMac,
        at: now(),
        done: () => resolve(),
      }),
    );
    await new Promise<void>((resolve) =>
      enqueue({
        frame: request(
          victimMac,
          DHCP_MESSAGE_TYPE.REQUEST,
          9,
          victimCtx.client!.ipv4Address!,
          victimCtx.server.ipv4Address,
        ),
        mac: victimMac,
        at: now(),
        done: () => resolve(),
      }),
    );
    leaseTimes.push(now() - t0);
  };
  while (now() - start < DURATION) {
    await lease();
    await new Promise((res2) => setTimeout(res2, 20));
  }
  clearInterval(ticker);
  const elapsed = now() - start;
  report(`flood_${kind}_rate`, (sent / elapsed) * 1000, 'frames/s', `flood (${kind}): frames sent per second`);
  report(`flood_${kind}_cpu_pct`, (busy / elapsed) * 100, '% of one core', `flood (${kind}): handling cost`);
  report(`flood_${kind}_victim_lease_p50_ms`, pct(leaseTimes, 50), 'ms', `flood (${kind}): other VM's lease time p50`);
  report(
    `flood_${kind}_victim_lease_max_ms`,
    Math.max(...leaseTimes),
    'ms',
    `flood (${kind}): other VM's lease time max`,
  );
}

await flood('discover');
await flood('garbage');
if (json) console.log(JSON.stringify(results));
