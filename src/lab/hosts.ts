// The lab's underlay (a Linux bridge in `<prefix>-ul`) and its hosts: a netns each with a private OVS on that underlay.
import { join } from 'node:path';
import type { LabContext } from './context.js';
import { LabInputError } from './errors.js';
import { runIn } from './exec.js';
import { addNetns, tmpVethNames } from './netns.js';
import { startOvs } from './ovs-instance.js';
import { addTunnelPorts, syncPlainFlows } from './plain.js';
import type { HostState } from './state.js';
import { checkIpv4, checkName, type HostSpec, inSubnet, nthAddress } from './topology.js';

/** The underlay netns `<prefix>-ul` and its Linux bridge `ulbr`, which every host's underlay veth joins. */
export async function addUnderlay(ctx: LabContext): Promise<void> {
  const ns = ctx.underlayNetns;
  await addNetns(ns);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'add', 'ulbr', 'type', 'bridge']);
  await runIn(undefined, ['ip', '-n', ns, 'link', 'set', 'ulbr', 'up']);
}

/**
 * Add a host: netns `<prefix>-<name>` (lo up, IPv6 off), an underlay veth into `<prefix>-ul`,
 * private ovsdb-server + ovs-vswitchd (userspace datapath), `br-phy` holding the underlay veth with
 * the underlay IP on its internal port, and the integration bridge (netdev, fail_mode=secure) unless
 * `createBridge: false`.
 */
export async function addHost(
  ctx: LabContext,
  spec: HostSpec,
  opts: { deferFlows?: boolean } = {},
): Promise<HostState> {
  const s = ctx.state;
  const name = checkName(spec.name, 'host.name');
  ctx.assertFreeName(name, 'host.name');
  const index = Math.max(0, ...s.hosts.map((h) => h.index)) + 1;
  const underlayIp = spec.underlayIp ?? nthAddress(s.underlay, index);
  if (!inSubnet(underlayIp, s.underlay))
    throw new LabInputError('host.underlayIp', `${underlayIp} is not in the underlay ${s.underlay}`);
  if (s.hosts.some((h) => h.underlayIp === underlayIp) || s.underlayAddresses.includes(underlayIp))
    throw new LabInputError('host.underlayIp', `${underlayIp} is already used on the underlay`);
  const createBridge = spec.createBridge ?? s.createBridge;
  if (s.mode === 'plain' && !createBridge)
    throw new LabInputError('host.createBridge', 'the plain setup needs the lab to create the bridge');
  const netns = `${s.prefix}-${name}`;
  const ulPort = `ul-${name}`;
  const st: HostState = {
    name,
    index,
    netns,
    dir: join(s.dir, name),
    underlayIp,
    underlayPrefixLen: Number(s.underlay.split('/')[1]),
    ulPort,
    bridge: s.bridge,
    bridgeCreated: createBridge,
    dpid: createBridge ? `0x${index.toString(16).padStart(16, '0')}` : null,
  };
  // Recorded before anything is made, so down() finds a half-built host too.
  s.hosts.push(st);
  ctx.save();
  await addNetns(netns);
  const ul = ctx.underlayNetns;
  const [a, b] = tmpVethNames(ctx);
  await runIn(undefined, ['ip', '-n', ul, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', netns]);
  await runIn(undefined, ['ip', '-n', ul, 'link', 'set', a, 'name', ulPort]);
  await runIn(undefined, ['ip', '-n', ul, 'link', 'set', ulPort, 'master', 'ulbr', 'up']);
  await runIn(undefined, ['ip', '-n', netns, 'link', 'set', b, 'name', 'ul0']);
  // ul0 is read by OVS's userspace datapath (AF_PACKET), but the host's kernel sees its frames too: with ARP
  // on, it answered "192.168.100.1 is-at <ul0's random MAC>" beside br-phy's own reply, and whichever came
  // last won in the other hosts' tunnel neighbour caches — tunnels to the host then went to a MAC its OVS
  // does not terminate (the SNAT e2e's flake). Only br-phy, which holds the underlay IP, may answer.
  await runIn(undefined, ['ip', '-n', netns, 'link', 'set', 'ul0', 'arp', 'off', 'up']);
  await runIn(netns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1']);
  const ovs = await startOvs({ dir: st.dir, netns });
  const vs = [
    '--',
    'set',
    'open_vswitch',
    '.',
    `external_ids:system-id=${netns}`,
    `external_ids:hostname=${netns}`,
    '--',
    'add-br',
    'br-phy',
    '--',
    'set',
    'bridge',
    'br-phy',
    'datapath_type=netdev',
    // A fixed MAC: left to OVS, br-phy's MAC is re-picked on reconfigurations (seen when another bridge's port
    // flapped), and the other hosts' tunnel neighbour caches then point at a MAC nobody has for seconds.
    `other_config:hwaddr=${underlayMac(underlayIp)}`,
    '--',
    'add-port',
    'br-phy',
    'ul0',
  ];
  if (createBridge)
    vs.push(
      '--',
      'add-br',
      st.bridge,
      '--',
      'set',
      'bridge',
      st.bridge,
      'datapath_type=netdev',
      'fail_mode=secure',
      `other_config:datapath-id=${st.dpid!.slice(2)}`,
      'other_config:disable-in-band=true',
    );
  await ovs.vsctl(...vs);
  // The underlay IP sits on br-phy's internal port: userspace tunnels route and ARP through it.
  await runIn(undefined, ['ip', '-n', netns, 'addr', 'add', `${underlayIp}/${st.underlayPrefixLen}`, 'dev', 'br-phy']);
  await runIn(undefined, ['ip', '-n', netns, 'link', 'set', 'br-phy', 'up']);
  if (s.mode === 'plain') {
    await addTunnelPorts(ovs, st.bridge);
    if (!opts.deferFlows) await syncPlainFlows(ctx);
  }
  return st;
}

/**
 * An address of the underlay namespace itself, on its bridge `ulbr`: a machine on the underlay that is no
 * hypervisor (e.g. one of several `vnet server`s), which every host reaches as it reaches the others. Processes
 * run there as node `ul`. Gone with the underlay namespace.
 */
export async function addUnderlayAddress(ctx: LabContext, address: string): Promise<void> {
  const s = ctx.state;
  const ip = checkIpv4(address, 'address');
  if (!inSubnet(ip, s.underlay)) throw new LabInputError('address', `${ip} is not in the underlay ${s.underlay}`);
  if (s.hosts.some((h) => h.underlayIp === ip) || s.underlayAddresses.includes(ip))
    throw new LabInputError('address', `${ip} is already used on the underlay`);
  s.underlayAddresses.push(ip);
  ctx.save();
  const len = s.underlay.split('/')[1];
  await runIn(undefined, ['ip', '-n', ctx.underlayNetns, 'addr', 'add', `${ip}/${len}`, 'dev', 'ulbr']);
  // What the namespace sends leaves with its TCP checksum left to the NIC (offload); the hosts' userspace OVS
  // reads it raw from ul0 and their kernels drop it as corrupt: a TCP connect from a host timed out until the
  // checksums were computed here.
  await runIn(undefined, ['ip', 'netns', 'exec', ctx.underlayNetns, 'ethtool', '-K', 'ulbr', 'tx', 'off']);
}

/** A host's underlay MAC, from its underlay address: 02:00 followed by the address's four bytes. */
function underlayMac(ip: string): string {
  return ['02', '00', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');
}
