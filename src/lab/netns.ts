// Making lab namespaces, and the temporary names links get while they are created inside them.
import { existsSync } from 'node:fs';
import type { LabContext } from './context.js';
import { LabSafetyError } from './errors.js';
import { runIn } from './exec.js';

/** A new netns with lo up and IPv6 off; refuses one that exists already (it is not ours). */
export async function addNetns(ns: string): Promise<void> {
  if (existsSync(`/run/netns/${ns}`)) throw new LabSafetyError(`netns ${ns} already exists`);
  await runIn(undefined, ['ip', 'netns', 'add', ns]);
  await runIn(undefined, [
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
  ]);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
}

/**
 * Two fresh temporary interface names (`<prefix>_<n>a|b`) for the ends of a new veth. They are only
 * ever created inside lab namespaces, and we refuse any that exists in the root namespace, so no
 * command can ever pick up (and move away) one of the machine's own interfaces.
 */
export function tmpVethNames(ctx: LabContext): [string, string] {
  const s = ctx.state;
  const n = (s.tmpCounter++).toString(36);
  ctx.save();
  const a = `${s.prefix}_${n}a`;
  const b = `${s.prefix}_${n}b`;
  for (const x of [a, b]) {
    if (x.length > 15) throw new LabSafetyError(`temporary interface name ${x} is longer than 15 characters`);
    if (existsSync(`/sys/class/net/${x}`))
      throw new LabSafetyError(`${x} exists in the root namespace; refusing to use it`);
  }
  return [a, b];
}

/**
 * A veth made inside netns `from` (end `a`) with its peer `b` placed straight into netns `to`: nothing is
 * created in, or moved out of, the root namespace; final names are set inside each netns afterwards.
 */
export async function addVeth(from: string, a: string, to: string, b: string, mtu: number): Promise<void> {
  await runIn(undefined, [
    'ip',
    '-n',
    from,
    'link',
    'add',
    a,
    'mtu',
    String(mtu),
    'type',
    'veth',
    'peer',
    'name',
    b,
    'netns',
    to,
  ]);
}

/**
 * A veth end that a userspace datapath (OVS netdev) reads, renamed to `name` and up. TX checksum offload
 * off: on a veth into the userspace datapath it leaves TCP checksums unfilled and TCP stalls.
 */
export async function raisePort(ns: string, tmp: string, name: string): Promise<void> {
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', tmp, 'name', name]);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', name, 'up']);
  await runIn(ns, ['ethtool', '-K', name, 'tx', 'off']);
}

/** A node's (VM's, external host's) eth0 from veth end `tmp`: MAC, MTU, fast ARP, address, default route. */
export async function configureEth0(
  ns: string,
  tmp: string,
  o: { mac: string; mtu: number; ip: string | null; gateway: string | null },
): Promise<void> {
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', tmp, 'name', 'eth0']);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'eth0', 'address', o.mac, 'mtu', String(o.mtu)]);
  // Fast ARP retries (10 ms, up to 100 probes) so a first ping is not delayed by the 1 s ARP back-off.
  // Per device: a non-initial netns has no neigh/default.
  await runIn(ns, ['sysctl', '-qw', 'net.ipv4.neigh.eth0.retrans_time_ms=10', 'net.ipv4.neigh.eth0.mcast_solicit=100']);
  if (o.ip) await runIn(undefined, ['ip', '-n', ns, 'addr', 'add', o.ip, 'dev', 'eth0']);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
  if (o.gateway) await runIn(undefined, ['ip', '-n', ns, 'route', 'add', 'default', 'via', o.gateway]);
  // Its frames reach a userspace datapath: no TX checksum offload (see raisePort).
  await runIn(ns, ['ethtool', '-K', 'eth0', 'tx', 'off']);
}
