// Lab benchmark of the Neutron API (issue 20): a port made through Neutron → its VM reachable, beside the same
// through the OpenVNet API, on one two-host lab. Each round: t0, the port is created (the `openstack` CLI, its
// Python start-up included; Neutron's HTTP API directly; or OpenVNet's POST /interfaces), the VM is plugged in on
// h2 with external_ids:iface-id = the port id (as nova+libvirt do) and its address set, then a ping every 5 ms
// from a VM on h1 until the first reply. Plugging the VM is the same in all three, so the difference is the API.
// Needs root; builds its own lab.
//   npx tsc -p tsconfig.build.json && node --import tsx bench/neutron.ts [--rounds 10]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from '../src/demo/cluster.js';
import { numOption, pct } from './lib/stats.js';

const run = promisify(execFile);
const ROUNDS = numOption(process.argv, 'rounds', 10);
const prefix = `bnt${process.pid % 100000}`.slice(0, 8);
const cluster = await Cluster.start({ prefix, hosts: ['h1', 'h2'], neutron: true });
const lab = cluster.lab;

async function neutron(method: string, path: string, body?: unknown) {
  const res = await fetch(`${cluster.neutronApi}/v2.0${path}`, {
    method,
    headers: { 'x-auth-token': cluster.adminToken!, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, Record<string, unknown>>>;
}

type Port = { id: string; mac: string; ip: string };
const portOf = (p: Record<string, unknown>): Port => ({
  id: p.id as string,
  mac: p.mac_address as string,
  ip: (p.fixed_ips as { ip_address: string }[])[0]!.ip_address,
});

const ways: Record<string, (i: number) => Promise<Port>> = {
  'openstack port create (CLI)': async (i) => {
    const { stdout } = await run('openstack', ['port', 'create', '--network', 'bnet', `cli-${i}`, '-f', 'json'], {
      env: {
        PATH: process.env.PATH,
        OS_AUTH_TYPE: 'admin_token',
        OS_TOKEN: cluster.adminToken!,
        OS_ENDPOINT: cluster.neutronApi,
      },
    });
    return portOf(JSON.parse(stdout));
  },
  'POST /v2.0/ports (Neutron HTTP)': async (i) =>
    portOf((await neutron('POST', '/ports', { port: { network_id: netId, name: `http-${i}` } })).port!),
  'POST /api/interfaces (OpenVNet)': async (i) => {
    const ip = `10.70.${1 + Math.floor(i / 200)}.${10 + (i % 200)}`;
    const mac = `02:00:00:70:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    const d = await cluster.call<{ uuid: string }>('POST', '/interfaces', {
      network_uuid: netId,
      ipv4_address: ip,
      mac_address: mac,
      enable_filtering: true,
    });
    return { id: d.uuid, mac, ip };
  },
};

let netId = '';
try {
  await cluster.waitDatapaths();
  netId = (await neutron('POST', '/networks', { network: { name: 'bnet' } })).network!.id as string;
  await neutron('POST', '/subnets', {
    subnet: {
      network_id: netId,
      ip_version: 4,
      cidr: '10.70.0.0/16',
      enable_dhcp: false,
      allocation_pools: [{ start: '10.70.100.1', end: '10.70.200.254' }],
    },
  });
  // The pinger: a port in the project's default group (its members may reach each other), like the ports measured.
  const peer = portOf((await neutron('POST', '/ports', { port: { network_id: netId, name: 'peer' } })).port!);
  await lab.addVm({ name: 'peer', host: 'h1', mac: peer.mac, ip: `${peer.ip}/16`, port: 'tap-peer', ifaceId: peer.id });
  const groups = (await neutron('GET', `/ports/${peer.id}`)).port!.security_groups as string[];
  const results: Record<string, number[]> = {};
  let n = 0;
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, create] of Object.entries(ways)) {
      const i = n++;
      const t0 = performance.now();
      const port = await create(i);
      // OpenVNet's interface joins the same group the Neutron ports got by default, so all three are filtered alike.
      if (name.includes('OpenVNet'))
        for (const g of groups) await cluster.call('POST', `/interfaces/${port.id}/security_groups/${g}`, {});
      await lab.addVm({
        name: `v${i}`,
        host: 'h2',
        mac: port.mac,
        ip: `${port.ip}/16`,
        port: `tap-v${i}`,
        ifaceId: port.id,
      });
      const r = await lab.waitPing('peer', port.ip, { timeoutMs: 20_000 });
      if (!r.ok) throw new Error(`${name}: peer -> ${port.ip} failed\n${r.output}`);
      (results[name] ??= []).push(performance.now() - t0);
    }
  const { stdout: load } = await run('cat', ['/proc/loadavg']);
  console.log(`port created → VM reachable (${ROUNDS} rounds, 2 hosts, load ${load.split(' ').slice(0, 3).join(' ')})`);
  for (const [name, xs] of Object.entries(results))
    console.log(`  ${name.padEnd(32)} p50 ${pct(xs, 50).toFixed(0)} ms  p95 ${pct(xs, 95).toFixed(0)} ms`);
} finally {
  await cluster.down();
}
