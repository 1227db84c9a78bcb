// The controller-less "plain" lab dataplane: hand-written L2 + tunnel flows so VMs on different hosts ping (lab smoke).
// Lab tooling only: it drives ovs-vsctl/ovs-ofctl; the product programs switches itself.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabContext } from './context.js';
import { LabError } from './errors.js';
import type { OvsInstance } from './ovs-instance.js';
import type { Encap } from './topology.js';

/** Flow-based tunnel ports (remote_ip=flow, key=flow), one per encapsulation, on every host's bridge. */
export const TUNNEL_PORTS: Record<Encap, string> = { gre: 'lab-gre0', vxlan: 'lab-vxlan0' };

/** The one virtual network of the plain setup travels with this tunnel key (GRE key / VXLAN VNI). */
export const PLAIN_TUNNEL_KEY = 1;

export interface PlainPort {
  mac: string;
  ofport: number;
}

export interface PlainRemote {
  mac: string;
  /** Underlay IP of the host the VM sits on. */
  hostIp: string;
}

/**
 * Flows for one host. Local unicast goes straight to the port; remote unicast is tunnelled to the
 * owning host's underlay IP; broadcast/multicast goes to every local port and once to every other
 * host. Traffic from the tunnel is only ever delivered locally (split horizon: no loops with any
 * number of hosts). Everything else is dropped (the bridge runs fail_mode=secure).
 */
export function plainFlows(opts: {
  tunnelOfport: number;
  local: PlainPort[];
  remote: PlainRemote[];
  otherHostIps: string[];
  key?: number;
}): string[] {
  const key = opts.key ?? PLAIN_TUNNEL_KEY;
  const tun = opts.tunnelOfport;
  const mcast = 'dl_dst=01:00:00:00:00:00/01:00:00:00:00:00';
  const flows: string[] = ['table=0,priority=0,actions=drop'];
  const localOut = opts.local.map((p) => `output:${p.ofport}`);
  for (const p of opts.local) {
    flows.push(`table=0,priority=100,in_port=${tun},tun_id=${key},dl_dst=${p.mac},actions=output:${p.ofport}`);
    flows.push(`table=0,priority=50,dl_dst=${p.mac},actions=output:${p.ofport}`);
  }
  if (localOut.length > 0)
    flows.push(`table=0,priority=90,in_port=${tun},tun_id=${key},${mcast},actions=${localOut.join(',')}`);
  // Anything else from the tunnel (unknown MAC, other key) must not be reflected back into it.
  flows.push(`table=0,priority=80,in_port=${tun},actions=drop`);
  for (const r of opts.remote)
    flows.push(
      `table=0,priority=50,dl_dst=${r.mac},actions=set_field:${r.hostIp}->tun_dst,set_field:${key}->tun_id,output:${tun}`,
    );
  // Output to the in_port is skipped by OpenFlow, so one flood flow serves every local port.
  const flood = [
    ...localOut,
    ...opts.otherHostIps.map((ip) => `set_field:${ip}->tun_dst,set_field:${key}->tun_id,output:${tun}`),
  ];
  if (flood.length > 0) flows.push(`table=0,priority=40,${mcast},actions=${flood.join(',')}`);
  return flows;
}

/** Both flow-based tunnel ports on a host's bridge: switching encapsulation then only changes flows. */
export async function addTunnelPorts(ovs: OvsInstance, bridge: string): Promise<void> {
  const args: string[] = [];
  for (const type of ['gre', 'vxlan'] as const) {
    const port = TUNNEL_PORTS[type];
    args.push('--', 'add-port', bridge, port, '--', 'set', 'interface', port, `type=${type}`);
    args.push('options:remote_ip=flow', 'options:key=flow');
  }
  await ovs.vsctl(...args);
}

/** Recompute and install the plain flows on every host (replace-flows: only differences are changed). */
export async function refreshPlainFlows(ctx: LabContext): Promise<void> {
  const s = ctx.state;
  if (s.mode !== 'plain') throw new LabError('VNET_LAB_NOT_PLAIN', `lab ${s.prefix} runs in mode ${s.mode}`);
  const attached = s.vms.filter((v) => v.attached && v.bridge === s.bridge);
  for (const h of s.hosts) {
    const ovs = ctx.ovs(h);
    const local = [];
    for (const v of attached.filter((x) => x.host === h.name))
      local.push({ mac: v.mac, ofport: await ofport(ovs, h.name, v.port) });
    const remote = attached
      .filter((x) => x.host !== h.name)
      .map((v) => ({ mac: v.mac, hostIp: ctx.hostState(v.host).underlayIp }));
    const flows = plainFlows({
      tunnelOfport: await ofport(ovs, h.name, TUNNEL_PORTS[s.encap]),
      local,
      remote,
      otherHostIps: s.hosts.filter((x) => x !== h).map((x) => x.underlayIp),
      key: PLAIN_TUNNEL_KEY,
    });
    const file = join(h.dir, 'plain-flows.txt');
    writeFileSync(file, `${flows.join('\n')}\n`);
    await ovs.ofctl('replace-flows', h.bridge, file);
  }
}

/** After a host or port change: in the plain setup the flows follow it; in mode none that is the agent's job. */
export async function syncPlainFlows(ctx: LabContext): Promise<void> {
  if (ctx.state.mode === 'plain') await refreshPlainFlows(ctx);
}

/** The OpenFlow port number of a port, once vswitchd has given it one. */
async function ofport(ovs: OvsInstance, host: string, port: string): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const n = Number((await ovs.vsctl('get', 'interface', port, 'ofport')).trim());
    if (n > 0) return n;
    await sleep(50);
  }
  throw new LabError('VNET_LAB_NO_OFPORT', `${host}: port ${port} got no OpenFlow port number`);
}
