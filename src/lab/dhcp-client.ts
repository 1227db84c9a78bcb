// A real DHCP client in a lab VM (busybox udhcpc) with a script of our own: the lease is recorded and, by default, applied.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabContext } from './context.js';

export interface DhcpOptions {
  /** DISCOVERs to send before giving up (default 5, one per second). */
  tries?: number;
  /** Configure eth0 from the lease (address, routes: option 121's, else the default via option 3; MTU); default true. */
  apply?: boolean;
}

/** What a DHCP client in a VM got (busybox udhcpc's variables), or why not. */
export interface DhcpLease {
  ok: boolean;
  /** Leased address, prefix length and the rest as the server sent them. */
  ip?: string;
  prefixLen?: number;
  router?: string;
  dns?: string[];
  domain?: string;
  mtu?: number;
  leaseS?: number;
  serverId?: string;
  /** Option 121 as udhcpc renders it ("dest/len gw ..."). */
  staticRoutes?: string;
  /** Every variable udhcpc passed to its script. */
  env: Record<string, string>;
  output: string;
  elapsedMs: number;
}

/**
 * The routes a udhcpc script installs from a lease (sh, in a `bound|renew` branch): option 121's (RFC 3442: with
 * classless routes the router option is ignored; 0.0.0.0/0 among them is the default route; a next hop 0.0.0.0 is on
 * the link, as Neutron's dnsmasq routes a network's other subnets), else the default route
 * via the first router of option 3.
 */
export const UDHCPC_APPLY_ROUTES = `if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        if [ "$1" = "0.0.0.0/0" ]; then ip route replace default via "$2" dev "$interface"
        elif [ "$2" = "0.0.0.0" ]; then ip route replace "$1" dev "$interface"
        else ip route replace "$1" via "$2" dev "$interface"; fi
        shift 2
      done
    else
      for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    fi`;

/**
 * Run busybox udhcpc on a VM's eth0 until it gets a lease or gives up, with our own script: the
 * default one would rewrite the machine's /etc/resolv.conf. With `apply` (the default) the lease is
 * configured: address, the classless routes (option 121, RFC 3442: then option 3 is ignored) or else the default
 * route via the router, MTU.
 */
export async function dhcp(ctx: LabContext, vm: string, opts: DhcpOptions = {}): Promise<DhcpLease> {
  const st = ctx.vmState(vm);
  const dir = join(ctx.state.dir, vm);
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, 'dhcp.env');
  const script = join(dir, 'udhcpc.sh');
  const apply = opts.apply !== false;
  writeFileSync(
    script,
    `#!/bin/sh
# vnet lab udhcpc script: record the lease${apply ? ' and configure eth0 from it' : ''}; never touches /etc.
case "$1" in
  deconfig)
    ${apply ? 'ip addr flush dev "$interface"; ip link set "$interface" up' : ':'} ;;
  bound|renew)
    env | grep -E '^(ip|subnet|mask|router|dns|domain|mtu|staticroutes|lease|serverid|broadcast|interface)=' | sort > "${envFile}.tmp"
    mv "${envFile}.tmp" "${envFile}"
    ${
      apply
        ? `[ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    ${UDHCPC_APPLY_ROUTES}`
        : ':'
    } ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  const t0 = Date.now();
  const tries = opts.tries ?? 5;
  const r = await ctx.exec(st.name, [
    'busybox',
    'udhcpc',
    '-f',
    '-q',
    '-n',
    '-i',
    'eth0',
    '-t',
    String(tries),
    '-T',
    '1',
    '-A',
    '1',
    '-s',
    script,
    '-O',
    'mtu',
    '-O',
    'staticroutes',
    '-O',
    'domain',
    '-O',
    'dns',
  ]);
  const env: Record<string, string> = {};
  try {
    for (const line of readFileSync(envFile, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
    }
  } catch {
    /* no lease */
  }
  const lease: DhcpLease = {
    ok: r.ok && env.ip !== undefined,
    env,
    output: r.stdout + r.stderr,
    elapsedMs: Date.now() - t0,
  };
  if (env.ip) lease.ip = env.ip;
  if (env.mask) lease.prefixLen = Number(env.mask);
  if (env.router) lease.router = env.router.split(' ')[0]!;
  if (env.dns) lease.dns = env.dns.split(' ').filter(Boolean);
  if (env.domain) lease.domain = env.domain;
  if (env.mtu) lease.mtu = Number(env.mtu);
  if (env.lease) lease.leaseS = Number(env.lease);
  if (env.serverid) lease.serverId = env.serverid;
  if (env.staticroutes) lease.staticRoutes = env.staticroutes;
  if (lease.ok && apply && lease.ip) {
    st.ip = `${lease.ip}/${lease.prefixLen ?? 32}`;
    st.gateway = lease.router ?? null;
    if (lease.mtu) st.mtu = lease.mtu;
    ctx.save();
  }
  return lease;
}
