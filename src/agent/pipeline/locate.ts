// Where an interface is, seen from this host (bound here, behind a tunnel, simulated), and how to tunnel there.
import type { Interface } from '../../model/types.js';
import type { Action } from '../../openflow/types.js';
import { parseIpv4 } from './addr.js';
import { output, setField } from './build.js';
import { type CompileContext, isFiltered } from './compile-context.js';
import { type Binding, tunnelAddress } from './model-view.js';

/** Where a member of the network is, seen from this host. */
export type Location =
  | { kind: 'local'; ofport: number; filtered: boolean; trunk?: Binding['trunk'] }
  | { kind: 'remote'; datapathUuid: string; ip: number; tunnelPort: number }
  | { kind: 'simulated' }
  | { kind: 'none'; reason: string };

/** Locate an interface: bound here, on a remote datapath we can tunnel to, simulated, or unreachable. */
export function locate(ctx: CompileContext, i: Interface): Location {
  if (i.mode === 'simulated') return { kind: 'simulated' };
  ctx.dep(`binding:${i.uuid}`);
  const b = ctx.bindings.get(i.uuid);
  if (b) {
    ctx.dep(`iface-filters:${i.uuid}`);
    return { kind: 'local', ofport: b.ofport, filtered: isFiltered(ctx, i.uuid), trunk: b.trunk };
  }
  // Where it is reported active is status, yet it says where to tunnel: its own key, so that only owners
  // locating it remotely follow it (an agent's own binding report, echoed by the feed, touches none).
  ctx.dep(`location:${i.uuid}`);
  const dpUuid = i.active_datapath_uuid ?? i.owner_datapath_uuid ?? null;
  if (!dpUuid) return { kind: 'none', reason: 'not bound anywhere' };
  if (dpUuid === ctx.local.datapathUuid) return { kind: 'none', reason: 'its port is not on this bridge' };
  return tunnelTo(ctx, dpUuid);
}

/** How to tunnel to (another) datapath `dpUuid`: its address and our port for its encapsulation. */
export function tunnelTo(ctx: CompileContext, dpUuid: string): Location {
  ctx.dep(`datapaths:${dpUuid}`);
  ctx.dep(`host-ifs:${dpUuid}`);
  const dp = ctx.view.datapaths.get(dpUuid);
  for (const u of ctx.view.hostInterfacesByDatapath.get(dpUuid) ?? []) ctx.dep(`interfaces:${u}`);
  const address = dp ? tunnelAddress(ctx.view, dp) : null;
  if (!dp || !address) return { kind: 'none', reason: `datapath ${dpUuid} has no tunnel address` };
  if (ctx.local.tunnelIp === null) return { kind: 'none', reason: 'this host cannot tunnel' };
  const encap = dp.encap === 'vxlan' ? 'vxlan' : 'gre';
  const tunnelPort = ctx.local.tunnelPorts[encap];
  if (tunnelPort === null) return { kind: 'none', reason: `no ${encap} port on this bridge` };
  return {
    kind: 'remote',
    datapathUuid: dpUuid,
    ip: parseIpv4(address, `datapaths.${dpUuid}.ipv4_address`),
    tunnelPort,
  };
}

/** Actions that send the packet through a tunnel to a remote host with the network's key. */
export function tunnelActions(key: number, ip: number, port: number): Action[] {
  return [setField('tunnel_id', BigInt(key)), setField('tun_ipv4_dst', ip), output(port)];
}
