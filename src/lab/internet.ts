// The "internet" beyond the provider segment (issue 17 item 9): an upstream router — an external node on the
// segment with IP forwarding on and no NAT — and an internet host behind it on a veth, running an HTTP server
// that answers every GET with the client address it sees (so a test sees which source address, e.g. a
// floating IP or a SNAT address, reached the internet) and able to run `iperf3 -s` on demand.
import ipaddr from 'ipaddr.js';
import type { LabContext } from './context.js';
import { LabInputError } from './errors.js';
import { runIn } from './exec.js';
import { addExternal } from './external.js';
import { addNetns, addVeth, configureEth0, tmpVethNames } from './netns.js';
import { type LabProcess, spawnProcess, waitLog } from './processes.js';
import type { ExternalState, InternetState } from './state.js';
import { checkCidr, checkName, DEFAULT_EXTERNAL_MTU, validateExternalSpec } from './topology.js';

export interface InternetOptions {
  /** The upstream router: an external node whose eth0 is an access port of the segment. */
  router?: {
    /** Node name; default `rtr`. */
    name?: string;
    /** Its address on the segment; default `192.168.10.1/24`. */
    ip?: string;
    /** VLAN of its access port; default 10; null: the flat network. */
    vlan?: number | null;
    /** MAC of its eth0; default `02:00:00:ee:…` as for every external node. */
    mac?: string;
  };
  /** The host beyond the router. */
  inet?: {
    /** Node name; default `inet` (netns `<prefix>-inet`). */
    name?: string;
    /** Subnet between router (`.1`, its eth1) and host (`.10`, its eth0); default `198.51.100.0/24`. */
    subnet?: string;
  };
}

export const DEFAULT_ROUTER_NAME = 'rtr';
export const DEFAULT_ROUTER_IP = '192.168.10.1/24';
export const DEFAULT_ROUTER_VLAN = 10;
export const DEFAULT_INET_NAME = 'inet';
export const DEFAULT_INET_SUBNET = '198.51.100.0/24';
/** Port of the internet host's HTTP server. */
export const INET_HTTP_PORT = 80;
/** Name of the HTTP server process on the internet host (`lab.processes()`, log `/tmp/<prefix>/<inet>/http.log`). */
export const INET_HTTP_PROCESS = 'http';
/** The internet host's eth0 MAC (apart from VMs' `02:00:00:00:…` and external nodes' `02:00:00:ee:…`). */
const INET_MAC = '02:00:00:ef:00:0a';

// One line per request: the client's address. Access log lines go to the process log.
const HTTP_SERVER = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (self.client_address[0] + "\\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, fmt, *args):
        print(self.client_address[0], fmt % args, flush=True)
s = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H)
print("listening on 0.0.0.0:" + sys.argv[1], flush=True)
s.serve_forever()
`;

/**
 * Add the router and the internet host. The router is an external node (`lab.external(name)`), with
 * `net.ipv4.ip_forward=1` and a second interface eth1 towards the host; it routes between its directly
 * connected segment subnet and the internet subnet, nothing else (no default route, no NAT). The host's
 * default route is the router. One per lab.
 */
export async function addInternet(
  ctx: LabContext,
  opts: InternetOptions = {},
): Promise<{ router: ExternalState; inet: InternetState; http: LabProcess }> {
  const s = ctx.state;
  if (s.internet)
    throw new LabInputError(
      'internet',
      `the lab has an internet already (router ${s.internet.router}, host ${s.internet.name})`,
    );
  const r = opts.router ?? {};
  const routerSpec = validateExternalSpec(
    {
      name: r.name ?? DEFAULT_ROUTER_NAME,
      ip: r.ip ?? DEFAULT_ROUTER_IP,
      vlan: r.vlan === undefined ? DEFAULT_ROUTER_VLAN : r.vlan,
      ...(r.mac === undefined ? {} : { mac: r.mac }),
    },
    'internet.router',
  );
  const name = checkName(opts.inet?.name ?? DEFAULT_INET_NAME, 'internet.inet.name');
  if (name === routerSpec.name) throw new LabInputError('internet.inet.name', `'${name}' is the router's name too`);
  ctx.assertFreeName(routerSpec.name, 'internet.router.name');
  ctx.assertFreeName(name, 'internet.inet.name');
  const { routerIp, ip, subnet } = internetAddresses(opts.inet?.subnet ?? DEFAULT_INET_SUBNET);

  const st: InternetState = {
    router: routerSpec.name,
    name,
    netns: `${s.prefix}-${name}`,
    mac: INET_MAC,
    subnet,
    routerIp,
    ip,
  };
  // Recorded before anything is made, so down() and cleanup know of a half-made internet too.
  s.internet = st;
  ctx.save();
  const router = await addExternal(ctx, routerSpec);
  const rns = router.netns;
  // A router, not a NAT: it forwards, and the tenants' addresses (floating IPs in the segment subnet,
  // directly connected here) are what the internet host sees.
  await runIn(rns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await addNetns(st.netns);
  const [a, b] = tmpVethNames(ctx);
  await addVeth(rns, a, st.netns, b, DEFAULT_EXTERNAL_MTU);
  await runIn(undefined, ['ip', '-n', rns, 'link', 'set', a, 'name', 'eth1']);
  await runIn(rns, [
    'sysctl',
    '-qw',
    'net.ipv4.neigh.eth1.retrans_time_ms=10',
    'net.ipv4.neigh.eth1.mcast_solicit=100',
  ]);
  await runIn(undefined, ['ip', '-n', rns, 'addr', 'add', routerIp, 'dev', 'eth1']);
  await runIn(undefined, ['ip', '-n', rns, 'link', 'set', 'eth1', 'up']);
  // As everywhere in the lab: no TX checksum offload (frames may end up in a userspace datapath).
  await runIn(rns, ['ethtool', '-K', 'eth1', 'tx', 'off']);
  await configureEth0(st.netns, b, {
    mac: st.mac,
    mtu: DEFAULT_EXTERNAL_MTU,
    ip,
    gateway: routerIp.split('/')[0]!,
  });
  const http = await spawnProcess(ctx, name, INET_HTTP_PROCESS, [
    'python3',
    '-u',
    '-c',
    HTTP_SERVER,
    String(INET_HTTP_PORT),
  ]);
  await waitLog(http, 'listening on', 10000);
  return { router, inet: st, http };
}

/** Router (`.1`) and host (`.10`) addresses of the internet subnet, which must be a network address of /≤28. */
export function internetAddresses(cidr: string): { subnet: string; routerIp: string; ip: string } {
  const field = 'internet.inet.subnet';
  const { ip, prefixLen } = checkCidr(cidr, field);
  if (prefixLen > 28) throw new LabInputError(field, `${cidr} is too small (the host is .10): /28 at most`);
  const net = ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
  if (net !== ip) throw new LabInputError(field, `${cidr} is not a network address (${net}/${prefixLen}?)`);
  const base = ipaddr.IPv4.parse(net)
    .toByteArray()
    .reduce((n, o) => n * 256 + o, 0);
  const at = (k: number) => {
    const n = base + k;
    return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}/${prefixLen}`;
  };
  return { subnet: cidr, routerIp: at(1), ip: at(10) };
}
