// `vnet demo`: a server and two agents in a lab, the seed's networks and router with VMs on both
// hosts, the reachability matrix, and how to explore; stays up until Ctrl-C (or exits: --once).
import type { Logger } from '../util/log.js';
import { Cluster, VNCTL_BIN } from './cluster.js';
import { formatMatrix, runMatrix } from './matrix.js';
import { externalApiCalls, gatewayApiCalls } from './north-south.js';
import { ROUTE_LINK, SEED_VMS, seedApiCalls } from './seed.js';

export interface DemoOptions {
  once: boolean;
  prefix: string;
  encap: 'gre' | 'vxlan';
  /** Where progress and the matrix go (stdout). */
  out: (line: string) => void;
  log?: Logger;
}

export const DEMO_HOSTS = ['host1', 'host2'] as const;

/** VMs alternate between the hosts, so every network spans both and routing crosses a tunnel. */
export function demoPlacement(): Map<string, string> {
  return new Map(SEED_VMS.map((vm, i) => [vm.name, DEMO_HOSTS[i % 2]!]));
}

/** Runs the demo; resolves with the process exit status. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const { out } = opts;
  let cluster: Cluster | null = null;
  let interrupted = false;
  let wake: (() => void) | null = null;
  const onSignal = () => {
    interrupted = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const step = (s: string) => out(`==> ${s}`);
  try {
    step(`building a lab '${opts.prefix}' with hosts ${DEMO_HOSTS.join(', ')} (own OVS each, ${opts.encap} underlay)`);
    cluster = await Cluster.start({ prefix: opts.prefix, hosts: [...DEMO_HOSTS], encap: opts.encap });
    if (interrupted) return 130;
    step(`vnet server runs in ${cluster.firstHost.netns} on 0.0.0.0:9090; agents run in each host (--register)`);
    const dps = await cluster.waitDatapaths();
    for (const [h, dp] of dps) out(`    ${h}: datapath ${dp.uuid} dpid ${dp.dpid}`);

    step(
      'creating the seed networks: net1 172.16.1.0/24, net2 172.16.2.0/24, net3 172.16.1.0/24 (overlaps net1), router net1<->net2',
    );
    await cluster.apply(seedApiCalls([...dps.values()].map((d) => ({ uuid: String(d.uuid) }))));

    const placement = demoPlacement();
    step('starting VMs (network namespaces on veth ports named after their interface uuids)');
    for (const vm of SEED_VMS) {
      const host = placement.get(vm.name)!;
      await cluster.lab.addVm({
        name: vm.name,
        host,
        mac: vm.mac,
        ip: `${vm.ip}/24`,
        gateway: vm.gateway,
        port: vm.uuid,
      });
      out(`    ${vm.name} ${vm.ip.padEnd(11)} ${vm.network}  on ${host} port ${vm.uuid}`);
    }
    if (interrupted) return 130;
    step('waiting for the agents to bind the ports and converge');
    await cluster.waitInSync(30_000);

    step(
      'reachability matrix: ping from each VM; a cell counts only if the target VM itself received the echo (addresses overlap)',
    );
    const result = await runMatrix(
      (vm, argv) => cluster!.lab.exec(vm, argv).then((r) => ({ ...r, code: r.code ?? 1 })),
      {
        deadlineMs: 15_000,
      },
    );
    out(formatMatrix(result));
    if (result.wrong.length > 0) {
      out('');
      out('diagnostics:');
      out(await cluster.diagnostics());
    }
    if (interrupted) return 130;
    const northSouth = await showNorthSouth(cluster, dps, step, out);
    const status = result.wrong.length === 0 && northSouth ? 0 : 1;
    if (opts.once) return status;

    const p = opts.prefix;
    const h1 = cluster.firstHost;
    out('');
    out('explore:');
    // The server listens on every address of its host, so it requires tokens: the explore lines carry one.
    const tf = cluster.adminTokenFile;
    const bearer = `-H "Authorization: Bearer $(cat ${tf})"`;
    out(`  admin token:                 ${tf}`);
    out(`  topology page (browser):     ${cluster.api}/ui  (it asks for the admin token above)`);
    out(`  API (inside the lab):        curl ${bearer} ${cluster.labApi}/api/1.0/networks`);
    out(`  API (from this machine):     curl ${bearer} ${cluster.api}/api/1.0/networks`);
    out(`  vnctl here:                  VNET_TOKEN_FILE=${tf} ${VNCTL_BIN} --api ${cluster.api} interfaces show`);
    out(`  vnctl in the server's host:  VNET_TOKEN_FILE=${tf} ip netns exec ${h1.netns} ${VNCTL_BIN} networks show`);
    out(`  a VM:                        ip netns exec ${p}-ns1 ping 172.16.2.3`);
    out(`                               vnet lab exec --prefix ${p} ns5 -- ping -c3 172.16.1.2`);
    out(`  flows of a host:             OVS_RUNDIR=${h1.dir} ovs-ofctl -O OpenFlow13 dump-flows br0`);
    out(`  the internet host:           ip netns exec ${p}-inet curl -s http://${FLOATING.ip}/ ; ping ${FLOATING.ip}`);
    out(`  agent log:                   ${cluster.agents.get(DEMO_HOSTS[0])?.log}`);
    out('');
    out('running; press Ctrl-C to stop and remove everything');
    // Nothing else keeps the event loop alive while we wait for the signal.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      while (!interrupted) await new Promise<void>((r) => (wake = r));
    } finally {
      clearInterval(keepAlive);
    }
    return 0;
  } catch (err) {
    out(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    if (cluster) out(await cluster.diagnostics());
    return 1;
  } finally {
    if (cluster) {
      step('cleaning up (servers, agents, OVS daemons, namespaces)');
      await cluster.down().catch((e: unknown) => out(`cleanup: ${String(e)}`));
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** ns1's floating IP in the demo, on host1 (which has an uplink). */
const FLOATING = { vm: 'ns1', interface: 'if-veth1', fixed: '172.16.1.1', ip: '192.168.10.50' } as const;
const GATEWAY_IP = '192.168.10.11';

/**
 * The way out: both hosts get an uplink on a provider segment (VLAN 10) with an upstream router and an internet
 * host behind it; the seed router gets an interface there with SNAT (host1 the active gateway, host2 the
 * standby) and ns1 a floating IP. Shows what the internet host sees of a VM behind SNAT and of ns1, and that it
 * reaches ns1 at its floating IP, and that the routes between the inside networks still win. Returns whether all held.
 */
async function showNorthSouth(
  cluster: Cluster,
  datapaths: ReadonlyMap<string, Record<string, unknown>>,
  step: (s: string) => void,
  out: (line: string) => void,
): Promise<boolean> {
  step(
    'north-south: uplinks to a provider segment (VLAN 10), an upstream router 192.168.10.1, an internet host 198.51.100.10',
  );
  for (const h of DEMO_HOSTS) await cluster.lab.addUplink(h);
  const { router, inet } = await cluster.lab.addInternet();
  step(
    `the seed router gets ${GATEWAY_IP} on nw-ext with SNAT (gateway host1, standby host2); ns1 the floating IP ${FLOATING.ip}`,
  );
  await cluster.apply([
    ...externalApiCalls({
      upstreamMac: router.mac,
      uplinks: DEMO_HOSTS.map((host, i) => ({
        host,
        datapath: String(datapaths.get(host)!.uuid),
        gatewayPriority: 200 - 100 * i,
      })),
    }),
    ...gatewayApiCalls({ t: 'seed', routeLink: ROUTE_LINK.uuid, gateway: GATEWAY_IP, extMac: '52:54:00:60:11:ee' }),
    { method: 'POST', path: '/translations', body: { uuid: 'tr-ns1', interface_uuid: FLOATING.interface } },
    {
      method: 'POST',
      path: '/translations/tr-ns1/static_address',
      body: { ingress_ipv4_address: FLOATING.fixed, egress_ipv4_address: FLOATING.ip },
    },
  ]);
  await cluster.waitInSync(30_000);
  const seen = async (vm: string): Promise<string> => {
    // The first packets may still meet a switch that has not learned the gateway yet: a few tries.
    for (let i = 0; i < 20; i++) {
      const r = await cluster.lab.exec(vm, ['curl', '-s', '--max-time', '2', inet.url]);
      if (r.ok && r.stdout.trim()) return r.stdout.trim();
      await new Promise((res) => setTimeout(res, 250));
    }
    return 'nothing';
  };
  const mark = (ok: boolean) => (ok ? 'ok' : 'FAIL');
  const snat = await seen('ns4');
  out(
    `    ns4 (net2, no floating IP, host2) → internet host, seen as ${snat.padEnd(15)} expected ${GATEWAY_IP} (SNAT)  ${mark(snat === GATEWAY_IP)}`,
  );
  const fip = await seen(FLOATING.vm);
  out(
    `    ns1 (floating IP) → internet host, seen as ${fip.padEnd(15)} expected ${FLOATING.ip}  ${mark(fip === FLOATING.ip)}`,
  );
  const back = await cluster.lab.waitPing('inet', FLOATING.ip, { timeoutMs: 10_000 });
  out(`    internet host → ${FLOATING.ip} (ns1's floating IP)  ${mark(back.ok)}`);
  // The way out must not take the way between the router's inside networks (the default route's translations
  // once outranked the inside routes).
  let inside = true;
  for (const [vm, dst] of [
    [FLOATING.vm, '172.16.2.3'],
    ['ns4', '172.16.1.2'],
  ] as const) {
    const r = await cluster.lab.waitPing(vm, dst, { timeoutMs: 10_000 });
    out(`    ${vm} → ${dst} (routed inside, not out)  ${mark(r.ok)}`);
    inside &&= r.ok;
  }
  return snat === GATEWAY_IP && fip === FLOATING.ip && back.ok && inside;
}
