// A whole vnet installation in a lab: server in the first host's netns, one agent per host, the API
// reachable from the caller's namespace through a lab forward. Used by `vnet demo` and the e2e tests.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../client/api-client.js';
import { Lab, type LabHost, type LabProcess } from '../lab/lab.js';
import { nthAddress } from '../lab/topology.js';
import { sleep } from '../util/backoff.js';
import type { ApiCall } from './seed.js';

/** bin/vnet of this checkout (runs dist/): the same path from src/demo and dist/demo. */
export const VNET_BIN = fileURLToPath(new URL('../../bin/vnet', import.meta.url));
export const VNCTL_BIN = fileURLToPath(new URL('../../bin/vnctl', import.meta.url));

export const SERVER_PORT = 9090;
/** Where the first host's server serves the Neutron API (Neutron's own port), with `neutron`. */
export const NEUTRON_PORT = 9696;

export interface ClusterOptions {
  prefix: string;
  hosts: string[];
  encap?: 'gre' | 'vxlan';
  /** Agents register their datapaths themselves (default true). */
  register?: boolean;
  /** Start the agents now (default true); false: call startAgent() yourself. */
  startAgents?: boolean;
  /** Whether the lab creates br0 (like a user's add-br). */
  labCreatesBridge?: boolean;
  /** Agents run with --create-bridge (default: when the lab does not create it). */
  agentCreatesBridge?: boolean;
  /** Agents run with --tunnel-ip (their underlay address; default true); false: the model must say it. */
  tunnelIp?: boolean;
  /** Extra environment for server and agents (e.g. VNET_LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the server listens in the first host: 'all' (0.0.0.0 — tokens required: the cluster uses the admin
   * token the server wrote and enrolls each agent with a one-time token) or 'loopback' (127.0.0.1 — local trust,
   * as a one-box install: only the first host's agent reaches it).
   */
  serverListen?: 'all' | 'loopback';
  /** Serve the API over https with the server's self-signed certificate; agents and the cluster verify it. */
  tls?: boolean;
  /** Also serve the Neutron API (`--neutron-listen`); `neutronApi` is where the caller reaches it. */
  neutron?: boolean;
  /**
   * Several `vnet server`s on one PostgreSQL database instead of one server on a SQLite file in the first host:
   * `db` is a postgres:// URL they reach from the lab's underlay namespace (e.g. by the database's unix socket).
   * Each server is a machine of its own on the underlay (its own address in the underlay namespace, node `ul`),
   * listening on every address (tokens required); every agent is given every server.
   */
  servers?: { count: number; db: string };
}

/** One `vnet server` of the cluster. */
export interface ClusterServer {
  /** s1, s2, …; its lab process is `server-<name>` in node `ul` (several servers) or `server` in the first host. */
  name: string;
  process: LabProcess;
  /** Where agents and vnctl inside the lab reach it. */
  labUrl: string;
  /** Where the caller's namespace reaches it (a lab forward). */
  api: string;
}

/** Several servers: the i-th (0-based) on this underlay address, far from the hosts' (1, 2, …). */
const SERVER_ADDRESS_INDEX = 200;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class Cluster {
  readonly agents = new Map<string, LabProcess>();
  /** The first server's process (with several servers, `servers` has them all). */
  server: LabProcess | null = null;
  /** Every server, in the order agents are given them. */
  readonly servers: ClusterServer[] = [];
  /** The API as the caller's namespace reaches it (a lab forward to the server's port). */
  api = '';
  /** The Neutron API as the caller's namespace reaches it (with `neutron`). */
  neutronApi = '';
  /** The admin token the server wrote (null with a loopback-only server, which needs none). */
  adminToken: string | null = null;
  private apiClient: ApiClient | undefined;

  private constructor(
    readonly lab: Lab,
    readonly opts: Required<Omit<ClusterOptions, 'env' | 'servers'>> & {
      env: NodeJS.ProcessEnv;
      servers: ClusterOptions['servers'];
    },
  ) {}

  /** Builds the lab hosts, starts the server and (unless told not to) the agents. Cleans up on failure. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const opts = {
      encap: 'gre' as const,
      register: true,
      startAgents: true,
      labCreatesBridge: true,
      tunnelIp: true,
      env: {},
      serverListen: 'all' as const,
      tls: false,
      neutron: false,
      servers: undefined,
      ...options,
      agentCreatesBridge: options.agentCreatesBridge ?? options.labCreatesBridge === false,
    };
    const lab = await Lab.create({
      prefix: opts.prefix,
      mode: 'none',
      createBridge: opts.labCreatesBridge,
      encap: opts.encap,
    });
    const c = new Cluster(lab, opts);
    try {
      await Promise.all(opts.hosts.map((name) => lab.addHost({ name })));
      if (opts.servers) await c.startServers(opts.servers);
      else await c.startServer();
      if (opts.startAgents) for (const h of opts.hosts) await c.startAgent(h);
    } catch (err) {
      await c.down();
      throw err;
    }
    return c;
  }

  /** The shared API client for `api` (10 s per call); there once the server runs. */
  get client(): ApiClient {
    if (!this.apiClient) throw new Error('the cluster has no server yet');
    return this.apiClient;
  }

  get firstHost(): LabHost {
    return this.lab.host(this.opts.hosts[0]!);
  }

  /** The (first) server's URL as agents and vnctl inside the lab use it. */
  get labApi(): string {
    if (this.servers[0]) return this.servers[0].labUrl;
    const host = this.opts.serverListen === 'all' ? this.firstHost.underlayIp : '127.0.0.1';
    return `${this.scheme}://${host}:${SERVER_PORT}`;
  }

  private get scheme(): 'http' | 'https' {
    return this.opts.tls ? 'https' : 'http';
  }

  /** The server's self-signed certificate (with `tls`), which agents and the cluster's client trust. */
  get tlsCertFile(): string {
    return join(this.firstHost.dir, 'tls.crt');
  }

  /** Where the server writes its first admin token (tokens are required when it listens on every address). */
  get adminTokenFile(): string {
    return join(this.opts.servers ? this.lab.dir : this.firstHost.dir, 'admin.token');
  }

  private async startServer(): Promise<void> {
    const h = this.firstHost;
    const listen = this.opts.serverListen === 'all' ? '0.0.0.0' : '127.0.0.1';
    this.server = await h.spawn(
      'server',
      [
        VNET_BIN,
        'server',
        '--listen',
        `${listen}:${SERVER_PORT}`,
        '--db',
        join(h.dir, 'vnet.db'),
        ...(this.opts.tls ? ['--tls'] : []),
        ...(this.opts.neutron ? ['--neutron-listen', `${listen}:${NEUTRON_PORT}`] : []),
      ],
      { env: { ...process.env, ...this.opts.env } },
    );
    const port = await freePort();
    await this.lab.forward({ from: { node: 'root', port }, to: { node: h.name, port: SERVER_PORT } });
    this.api = `${this.scheme}://127.0.0.1:${port}`;
    if (this.opts.neutron) {
      const nport = await freePort();
      await this.lab.forward({ from: { node: 'root', port: nport }, to: { node: h.name, port: NEUTRON_PORT } });
      this.neutronApi = `${this.scheme}://127.0.0.1:${nport}`;
    }
    await this.waitAnswering(this.server, this.api);
    this.apiClient = this.clientFor(this.api);
  }

  /**
   * `count` servers on `db`, each on its own underlay address in the underlay namespace, one after the other (the
   * first migrates the schema and writes the admin token; the others find both). The cluster's client calls the
   * first.
   */
  private async startServers({ count, db }: { count: number; db: string }): Promise<void> {
    if (this.opts.serverListen !== 'all' || this.opts.neutron || this.opts.tls)
      throw new Error('several servers: listening on every address, without neutron or tls');
    for (let i = 0; i < count; i++) {
      const name = `s${i + 1}`;
      const ip = nthAddress(this.lab.underlay, SERVER_ADDRESS_INDEX + i);
      await this.lab.addUnderlayAddress(ip);
      const proc = await this.lab.spawn(
        'ul',
        `server-${name}`,
        [VNET_BIN, 'server', '--listen', `${ip}:${SERVER_PORT}`, '--db', db, '--admin-token-file', this.adminTokenFile],
        { env: { ...process.env, ...this.opts.env } },
      );
      const port = await freePort();
      await this.lab.forward({ from: { node: 'root', port }, to: { node: 'ul', port: SERVER_PORT, host: ip } });
      const server: ClusterServer = {
        name,
        process: proc,
        labUrl: `http://${ip}:${SERVER_PORT}`,
        api: `http://127.0.0.1:${port}`,
      };
      await this.waitAnswering(proc, server.api);
      this.servers.push(server);
    }
    this.server = this.servers[0]!.process;
    this.api = this.servers[0]!.api;
    this.apiClient = this.clientFor(this.api);
  }

  /** The cluster's calls go to this one of several servers from now on (e.g. when the one they went to is gone). */
  useServer(name: string): void {
    const s = this.servers.find((x) => x.name === name);
    if (!s) throw new Error(`no server ${name} (${this.servers.map((x) => x.name).join(', ')})`);
    this.api = s.api;
    this.apiClient = this.clientFor(s.api);
  }

  /** An API client for one of the servers as the caller reaches it (10 s per call). */
  clientFor(api: string): ApiClient {
    const ca = this.opts.tls && existsSync(this.tlsCertFile) ? readFileSync(this.tlsCertFile, 'utf8') : undefined;
    return new ApiClient({ baseUrl: api, timeoutMs: 10_000, token: this.adminToken ?? undefined, ca });
  }

  /** Until the server behind `api` answers; reads the admin token it wrote. */
  private async waitAnswering(server: LabProcess, api: string): Promise<void> {
    // The forwarder accepts and drops connections until the server listens: poll with a short deadline. The
    // server writes its admin token before it listens.
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.opts.serverListen === 'all' && existsSync(this.adminTokenFile))
        this.adminToken = readFileSync(this.adminTokenFile, 'utf8').trim();
      const token = this.adminToken ?? undefined;
      const ca = this.opts.tls && existsSync(this.tlsCertFile) ? readFileSync(this.tlsCertFile, 'utf8') : undefined;
      const probe = new ApiClient({ baseUrl: api, timeoutMs: 2000, token, ca });
      try {
        await probe.send({ method: 'GET', path: '/datapaths' });
        return;
      } catch {
        /* not up yet */
      }
      if (!server.alive()) throw new Error(`vnet server exited:\n${server.logTail(30)}`);
      if (Date.now() > deadline) throw new Error(`vnet server did not answer within 20 s:\n${server.logTail(30)}`);
      await sleep(100);
    }
  }

  /** `servers`: the servers' lab URLs in the order this agent tries them (default: every server, in order). */
  agentArgs(host: string, extra: string[] = [], servers?: readonly string[]): string[] {
    const h = this.lab.host(host);
    return [
      VNET_BIN,
      'agent',
      '--server',
      (servers ?? (this.servers.length > 0 ? this.servers.map((s) => s.labUrl) : [this.labApi])).join(','),
      '--node-id',
      host,
      '--bridge',
      h.bridge,
      '--ovsdb',
      h.ovsdbRemote,
      ...(this.opts.tunnelIp ? ['--tunnel-ip', h.underlayIp] : []),
      '--encap',
      this.opts.encap,
      ...(this.opts.register ? ['--register'] : []),
      ...(this.opts.agentCreatesBridge ? ['--create-bridge'] : []),
      // The agent's metadata namespace carries the lab's prefix, so the lab's cleanup finds it after a crash too.
      '--metadata-netns',
      `${h.netns}-md`,
      ...extra,
    ];
  }

  async startAgent(host: string, extra: string[] = [], servers?: readonly string[]): Promise<LabProcess> {
    const old = this.agents.get(host);
    if (old?.alive()) throw new Error(`the agent of ${host} already runs (pid ${old.pid})`);
    if (old) await this.lab.stopProcess(host, 'agent').catch(() => undefined);
    const cred = await this.credentials(host);
    const p = await this.lab.spawn(host, 'agent', this.agentArgs(host, [...cred.args, ...extra], servers), {
      env: { ...process.env, ...this.opts.env, ...cred.env },
      // Its metadata namespace must outlive it, as on a host: a restarted agent reuses it and its port's device.
      sharedMounts: true,
    });
    this.agents.set(host, p);
    return p;
  }

  /**
   * An agent's credential when the server requires tokens: the first start enrolls with a one-time token for
   * its node (as an operator would hand one out; in the environment, not on a command line `ps` shows);
   * later starts reuse the agent token it kept.
   */
  private async credentials(host: string): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
    const tls = this.opts.tls ? ['--ca-file', this.tlsCertFile] : [];
    if (this.adminToken === null) return { args: tls, env: {} };
    const file = join(this.lab.host(host).dir, 'agent.token');
    if (existsSync(file)) return { args: [...tls, '--token-file', file], env: {} };
    const { token } = await this.call<{ token: string }>('POST', '/tokens', { role: 'enrollment', node_id: host });
    return { args: [...tls, '--token-file', file], env: { VNET_ENROLL_TOKEN: token } };
  }

  /** Stops an agent: SIGTERM (clean) or SIGKILL (crash). The lab forgets the process either way. */
  async stopAgent(host: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const p = this.agents.get(host);
    if (!p) return;
    if (signal === 'SIGKILL' && p.alive()) {
      process.kill(p.pid, 'SIGKILL');
      for (let i = 0; i < 100 && p.alive(); i++) await sleep(20);
    }
    await this.lab.stopProcess(host, 'agent').catch(() => undefined);
    this.agents.delete(host);
  }

  /** One API call from the caller's namespace; JSON in and out; throws VnetApiError on failure. */
  call<T = unknown>(method: string, path: string, body?: Record<string, unknown>): Promise<T> {
    return this.client.send<T>({ method, path, body });
  }

  async apply(calls: readonly ApiCall[]): Promise<void> {
    for (const c of calls) await this.call(c.method, c.path, c.body);
  }

  async datapaths(): Promise<Record<string, unknown>[]> {
    const r = await this.call<{ items: Record<string, unknown>[] }>('GET', '/datapaths?limit=1000');
    return r.items;
  }

  /** The datapath each host's agent registered (by node_id), waiting until all exist. */
  async waitDatapaths(timeoutMs = 20_000): Promise<Map<string, Record<string, unknown>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dps = await this.datapaths();
      const byHost = new Map<string, Record<string, unknown>>();
      for (const h of this.agents.keys()) {
        const dp = dps.find((d) => d.node_id === h || d.reported_node_id === h);
        if (dp) byHost.set(h, dp);
      }
      if (byHost.size === this.agents.size) return byHost;
      if (Date.now() > deadline)
        throw new Error(
          `datapaths of ${[...this.agents.keys()].filter((h) => !byHost.has(h)).join(', ')} not registered`,
        );
      await sleep(100);
    }
  }

  /** Waits until every running agent's datapath says connected and flows in sync. */
  async waitInSync(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const dps = await this.datapaths();
      const pending: string[] = [];
      for (const h of this.agents.keys()) {
        const dp = dps.find((d) => d.reported_node_id === h || d.node_id === h);
        if (dp?.is_connected !== true || dp.flows_in_sync !== true)
          pending.push(
            `${h}: ${dp ? `connected=${dp.is_connected} in_sync=${dp.flows_in_sync} last_error=${dp.last_error}` : 'no datapath'}`,
          );
      }
      if (pending.length === 0) return;
      last = pending.join('; ');
      if (Date.now() > deadline) throw new Error(`agents not in sync: ${last}`);
      await sleep(100);
    }
  }

  /** Failure report: lab diagnostics (flows, OVS logs, VMs) plus server and agent log tails. */
  async diagnostics(): Promise<string> {
    const parts = [await this.lab.diagnostics().catch((e: unknown) => `lab diagnostics failed: ${String(e)}`)];
    if (this.servers.length > 0)
      for (const s of this.servers) parts.push(`--- server ${s.name} log (tail)\n${s.process.logTail(40)}`);
    else if (this.server) parts.push(`--- server log (tail)\n${this.server.logTail(40)}`);
    for (const [h, p] of this.agents) parts.push(`--- agent ${h} log (tail)\n${p.logTail(60)}`);
    return parts.join('\n');
  }

  async down(): Promise<void> {
    await this.lab.down();
  }
}
