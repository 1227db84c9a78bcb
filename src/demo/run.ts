// `vnet demo`: a server and two agents in a lab, the seed's networks and router with VMs on both
// hosts, the reachability matrix, and how to explore; stays up until Ctrl-C (or exits: --once).
import type { Logger } from '../util/log.js';
import { Cluster, VNCTL_BIN } from './cluster.js';
import { formatMatrix, runMatrix } from './matrix.js';
import { SEED_VMS, seedApiCalls } from './seed.js';

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
    const status = result.wrong.length === 0 ? 0 : 1;
    if (opts.once) return status;

    const p = opts.prefix;
    const h1 = cluster.firstHost;
    out('');
    out('explore:');
    out(`  API (inside the lab):        ${cluster.labApi}/api/1.0/networks`);
    out(`  API (from this machine):     ${cluster.api}/api/1.0/networks`);
    out(`  vnctl here:                  ${VNCTL_BIN} --api ${cluster.api} interfaces show`);
    out(`  vnctl in the server's host:  ip netns exec ${h1.netns} ${VNCTL_BIN} networks show`);
    out(`  a VM:                        ip netns exec ${p}-ns1 ping 172.16.2.3`);
    out(`                               vnet lab exec --prefix ${p} ns5 -- ping -c3 172.16.1.2`);
    out(`  flows of a host:             OVS_RUNDIR=${h1.dir} ovs-ofctl -O OpenFlow13 dump-flows br0`);
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
