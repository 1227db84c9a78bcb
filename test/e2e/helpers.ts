// Shared pieces of the end-to-end tests: a unique lab prefix, seed VMs in the lab, pings with
// failure reports (flows, agent logs, ofproto/trace), and flow-table snapshots for comparison.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster } from '../../src/demo/cluster.js';
import { formatMatrix, runMatrix } from '../../src/demo/matrix.js';
import { SEED_NETWORKS, SEED_VMS, type SeedVm } from '../../src/demo/seed.js';
import { UDHCPC_APPLY_ROUTES } from '../../src/lab/dhcp-client.js';

/** A lab prefix unique to this test file and process (≤ 8 chars, [a-z0-9]). */
export function labPrefix(tag: string): string {
  return `${tag}${process.pid % 100000}`.slice(0, 8);
}

/** The e2e tier needs root and a built dist/ (bin/vnet runs it): fail loudly, never skip. */
export function assertE2eEnvironment(): void {
  assert.equal(process.getuid?.(), 0, 'e2e tests need root (network namespaces, Open vSwitch)');
  const dist = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
  assert.ok(existsSync(dist), 'dist/ is missing: run `npx tsc -p tsconfig.build.json` (npm test builds first)');
}

export function seedVm(name: string): SeedVm {
  const vm = SEED_VMS.find((v) => v.name === name);
  if (!vm) throw new Error(`no seed VM ${name}`);
  return vm;
}

/** Plug a seed VM into a host: a netns whose eth0 is on a port named after its interface uuid. */
export async function addSeedVm(
  cluster: Cluster,
  name: string,
  host: string,
  opts: { ifaceId?: boolean; attach?: boolean } = {},
): Promise<void> {
  const vm = seedVm(name);
  await cluster.lab.addVm({
    name: vm.name,
    host,
    mac: vm.mac,
    ip: `${vm.ip}/24`,
    gateway: vm.gateway,
    // With ifaceId the port gets a neutral name and binds by external_ids:iface-id instead.
    port: opts.ifaceId ? `p-${vm.name}` : vm.uuid,
    ifaceId: opts.ifaceId ? vm.uuid : null,
    attach: opts.attach ?? true,
  });
}

/** A DHCP service in a network, OpenVNet's way: a simulated interface (`iface`) with a dhcp network service. */
export async function addDhcpService(
  cluster: Cluster,
  iface: { uuid: string; ip: string; mac: string },
  serviceUuid: string,
  network = 'nw-net1',
): Promise<void> {
  await cluster.call('POST', '/interfaces', {
    uuid: iface.uuid,
    network_uuid: network,
    ipv4_address: iface.ip,
    mac_address: iface.mac,
    mode: 'simulated',
  });
  await cluster.call('POST', '/network_services', { uuid: serviceUuid, interface_uuid: iface.uuid, mode: 'dhcp' });
}

/** A VM of the API: its interface and the lab VM that plays it, with the same MAC, address and port. */
export interface InterfaceVm {
  name: string;
  host: string;
  mac: string;
  ip: string;
  /** The interface's uuid, also the VM's port name (the agent binds by port name); default `if-<name>`. */
  uuid?: string;
  /** The interface's network (its address an IP lease there), or its segment (no IP lease). */
  network?: string;
  segment?: string;
  gateway?: string;
  mtu?: number;
  /** More interface fields (mode, port_name, enable_routing, ...). */
  fields?: Record<string, unknown>;
  /** The VM sets its own address once plugged (`ip addr add`, no gateway), as OpenVNet's specs do. */
  selfAddressed?: boolean;
}

/** POST the VM's interface, then plug a lab VM into `host` with its MAC, address and port. */
export async function addInterfaceVm(cluster: Cluster, vm: InterfaceVm): Promise<void> {
  const uuid = vm.uuid ?? `if-${vm.name}`;
  await cluster.call('POST', '/interfaces', {
    uuid,
    ...vm.fields,
    mac_address: vm.mac,
    ...(vm.segment ? { segment_uuid: vm.segment } : { network_uuid: vm.network, ipv4_address: vm.ip }),
  });
  await plugInterfaceVm(cluster, { ...vm, uuid });
}

/** Plug the lab VM of an interface the API already has (its uuid the port name). */
export async function plugInterfaceVm(cluster: Cluster, vm: InterfaceVm): Promise<void> {
  const port = vm.uuid ?? `if-${vm.name}`;
  if (vm.selfAddressed) {
    await cluster.lab.addVm({ name: vm.name, host: vm.host, mac: vm.mac, ip: null, gateway: null, port });
    await cluster.lab.run(vm.name, ['ip', 'addr', 'add', `${vm.ip}/24`, 'dev', 'eth0']);
    return;
  }
  await cluster.lab.addVm({
    name: vm.name,
    host: vm.host,
    mac: vm.mac,
    ip: `${vm.ip}/24`,
    gateway: vm.gateway,
    port,
    ...(vm.mtu ? { mtu: vm.mtu } : {}),
  });
}

/** A VM beyond the seed in net1 (interface created through the API, then plugged into `host`). */
export async function addNet1Vm(
  cluster: Cluster,
  vm: { name: string; uuid: string; ip: string; mac: string },
  host: string,
): Promise<void> {
  await addInterfaceVm(cluster, { ...vm, host, network: 'nw-net1', gateway: '172.16.1.254' });
}

/** ofproto/trace input for an ICMP echo from a seed VM to `dstIp` (router MAC when routed). */
export async function traceFlowFor(cluster: Cluster, src: SeedVm, dstIp: string): Promise<string> {
  const vm = cluster.lab.vm(src.name);
  const host = cluster.lab.host(vm.host);
  const ofport = (await host.vsctl('get', 'Interface', vm.port, 'ofport')).trim();
  const net = SEED_NETWORKS.find((n) => n.uuid === src.network)!;
  const local = dstIp.split('.').slice(0, 3).join('.') === net.ipv4Network.split('.').slice(0, 3).join('.');
  const dst = local ? SEED_VMS.find((v) => v.ip === dstIp && v.network === src.network)?.mac : net.gateway?.mac;
  return `in_port=${ofport},icmp,dl_src=${src.mac},dl_dst=${dst ?? 'ff:ff:ff:ff:ff:ff'},nw_src=${src.ip},nw_dst=${dstIp},nw_ttl=64,icmp_type=8`;
}

/** Everything a failed dataplane assertion should show: lab diagnostics, logs, and a trace. */
export async function failureReport(cluster: Cluster, src?: SeedVm, dstIp?: string): Promise<string> {
  const parts = [await cluster.diagnostics()];
  if (src && dstIp) {
    try {
      const flow = await traceFlowFor(cluster, src, dstIp);
      const host = cluster.lab.vm(src.name).host;
      parts.push(`--- ofproto/trace ${host} ${flow}\n${await cluster.lab.trace(host, flow)}`);
    } catch (err) {
      parts.push(`--- trace failed: ${String(err)}`);
    }
  }
  return parts.join('\n');
}

/** Ping until it works (convergence deadline); on failure the assertion carries the full report. */
export async function assertReaches(
  cluster: Cluster,
  from: string,
  dstIp: string,
  timeoutMs = 10_000,
): Promise<number> {
  const r = await cluster.lab.waitPing(from, dstIp, { timeoutMs });
  if (!r.ok)
    assert.fail(
      `${from} -> ${dstIp} got no reply within ${timeoutMs} ms\n${await failureReport(
        cluster,
        SEED_VMS.find((v) => v.name === from),
        dstIp,
      )}`,
    );
  return r.elapsedMs;
}

/** Two honest tries that must both stay unanswered. */
export async function assertIsolated(cluster: Cluster, from: string, dstIp: string): Promise<void> {
  const r = await cluster.lab.ping(from, dstIp, { count: 2, intervalS: 0.2, timeoutS: 1 });
  if (r.received > 0) assert.fail(`${from} -> ${dstIp} was answered but must not be\n${await failureReport(cluster)}`);
}

/** Runs the seed matrix over the VMs that exist; fails with the matrix and diagnostics. */
export async function assertSeedMatrix(cluster: Cluster, deadlineMs = 10_000): Promise<void> {
  const present = new Set(cluster.lab.vms().map((v) => v.name));
  const vms = SEED_VMS.filter((v) => present.has(v.name));
  const result = await runMatrix((vm, argv) => cluster.lab.exec(vm, argv).then((r) => ({ ...r, code: r.code ?? 1 })), {
    vms,
    deadlineMs,
  });
  if (result.wrong.length > 0) {
    const first = result.wrong[0]!;
    const src = seedVm(first.src);
    const dstIp = first.target.startsWith('gw ') ? first.target.slice(3) : seedVm(first.target).ip;
    assert.fail(`reachability matrix wrong:\n${formatMatrix(result)}\n${await failureReport(cluster, src, dstIp)}`);
  }
}

/** The flow table of a host's bridge without counters/durations, sorted: comparable across time. */
export async function flowTable(cluster: Cluster, host: string): Promise<string[]> {
  const out = await cluster.lab.host(host).ofctl('dump-flows', '--no-stats', cluster.lab.host(host).bridge);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('OFPST_FLOW') && !l.startsWith('NXST_FLOW'))
    .sort();
}

// The DHCP client's script records what udhcpc learned (in OUTDIR/<mac>.env) and configures only the VM's own
// netns (never /etc/resolv.conf: the default script would rewrite the machine's resolver).
const UDHCPC_SCRIPT = `#!/bin/sh
out="$OUTDIR/$(ip -o link show "$interface" | sed 's/.*link\\/ether \\([^ ]*\\).*/\\1/' | tr -d :)"
case "$1" in
  bound|renew)
    env | grep -E '^(ip|subnet|router|dns|domain|mtu|staticroutes|lease|serverid)=' | sort > "$out.env"
    ip addr flush dev "$interface"
    ip addr add "$ip/$subnet" dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ${UDHCPC_APPLY_ROUTES}
    ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
`;

/** Runs busybox udhcpc in a VM with the recording script; the lease it got is then `dhcpLeaseOf(cluster, mac)`. */
export function udhcpc(cluster: Cluster, vm: string, opts: { tries?: number; options?: string[] } = {}) {
  const script = join(cluster.lab.dir, 'udhcpc.sh');
  if (!existsSync(script)) {
    writeFileSync(script, UDHCPC_SCRIPT);
    chmodSync(script, 0o755);
  }
  const argv = ['busybox', 'udhcpc', '-i', 'eth0', '-n', '-q', '-f', '-t', String(opts.tries ?? 5), '-T', '1'];
  for (const o of opts.options ?? []) argv.push('-O', o);
  return cluster.lab.exec(vm, [...argv, '-s', script], {
    env: { ...process.env, OUTDIR: cluster.lab.dir },
    timeoutMs: 60_000,
  });
}

/** What udhcpc learned for the VM of this MAC (ip, subnet, router, dns, mtu, ...). */
export function dhcpLeaseOf(cluster: Cluster, mac: string): Record<string, string> {
  const text = readFileSync(join(cluster.lab.dir, `${mac.replaceAll(':', '')}.env`), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}
