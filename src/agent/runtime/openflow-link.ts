// SwitchListener/SwitchLink on the OpenFlow library (src/openflow OpenFlowServer, SwitchConnection).
import {
  type MeterMod,
  OpenFlowError,
  OpenFlowServer,
  SwitchClient,
  type SwitchConnection,
} from '../../openflow/index.js';
import type { Flow, FlowMod } from '../../openflow/types.js';
import type { Logger } from '../../util/log.js';
import type { MeterSpec } from '../pipeline/meters.js';
import type { PacketInEvent, SwitchLink, SwitchListener } from './deps.js';
import { identifyPeer } from './switch-identity.js';

/** OFPMF_PKTPS | OFPMF_BURST (OF 1.3 §7.3.4.4): rates in packets per second, with a burst size. */
const METER_FLAGS = 0x2 | 0x4;

export class OpenFlowLink implements SwitchLink {
  constructor(
    private readonly conn: SwitchConnection,
    private readonly log: Logger,
  ) {}

  get dpid(): bigint {
    return this.conn.dpid;
  }

  async dumpFlows(): Promise<Flow[]> {
    const stats = await this.conn.dumpFlows();
    const odd = stats.filter((s) => s.unknownMatch && s.unknownMatch.length > 0);
    if (odd.length > 0)
      this.log.warn(
        { flows: odd.length, fields: odd[0]!.unknownMatch },
        'switch holds flows with match fields we do not decode',
      );
    return stats.map((s) => s.flow);
  }

  async flowCounts(q: { table: number; cookie: bigint; cookieMask: bigint }) {
    const stats = await this.conn.dumpFlows(q);
    return stats.map((s) => ({ cookie: s.flow.cookie ?? 0n, packets: s.packetCount }));
  }

  sendFlowMods(mods: FlowMod[], opts: { bundle: boolean; onWritten?: () => void }): Promise<void> {
    return this.conn.sendFlowMods(mods, opts);
  }

  async ensureMeters(meters: readonly MeterSpec[]): Promise<void> {
    // Pipelined: each meter-mod waits for its own barrier, so hundreds at start-up cost one round trip.
    await Promise.all(
      meters.map(async (m) => {
        const mod: MeterMod = {
          command: 'add',
          flags: METER_FLAGS,
          meterId: m.id,
          bands: [{ type: 'drop', rate: m.ratePps, burstSize: m.burst }],
        };
        try {
          await this.conn.meterMod(mod);
        } catch (err) {
          // OFPMMFC_METER_EXISTS after an agent restart: bring it to the declared rate instead.
          if (!(err instanceof OpenFlowError)) throw err;
          await this.conn.meterMod({ ...mod, command: 'modify' });
        }
      }),
    );
  }

  async deleteMeters(ids: readonly number[]): Promise<void> {
    await Promise.all(ids.map((meterId) => this.conn.meterMod({ command: 'delete', flags: 0, meterId, bands: [] })));
  }

  packetOut(opts: { inPort: number; outPort: number; data: Uint8Array }): Promise<void> {
    return this.conn.packetOut({
      inPort: opts.inPort,
      actions: [{ type: 'output', port: opts.outPort }],
      data: opts.data,
    });
  }

  onPacketIn(listener: (ev: PacketInEvent) => void): void {
    this.conn.on('packetIn', (p) => {
      const inPort = p.match.in_port?.value;
      listener({
        reason: p.reason,
        table: p.tableId,
        cookie: p.cookie,
        inPort: typeof inPort === 'bigint' ? Number(inPort) : (inPort ?? 0),
        data: p.data,
      });
    });
  }

  onClose(listener: (reason: string) => void): void {
    this.conn.on('close', listener);
  }

  close(): void {
    this.conn.close('closed by the agent');
  }

  async isAlive(timeoutMs: number): Promise<boolean> {
    if (this.conn.closed) return false;
    try {
      await this.conn.barrier(timeoutMs);
      return true;
    } catch {
      return false;
    }
  }
}

export class OpenFlowListener implements SwitchListener {
  private readonly server: OpenFlowServer;

  private constructor(
    server: OpenFlowServer,
    readonly address: { host: string; port: number },
    private readonly log: Logger,
    private readonly verifyPeer: boolean,
    tls: boolean,
  ) {
    this.server = server;
    this.controller = `${tls ? 'ssl' : 'tcp'}:${address.host}:${address.port}`;
    this.describe = `listen ${this.controller}`;
  }

  readonly controller: string;
  readonly describe: string;

  /**
   * `verifyPeer`: take only ovs-vswitchd for the switch (switch-identity.ts); off only for tests' fake switches.
   * `tls`: OpenFlow over TLS (`--listen ssl:`): only a switch whose certificate chains to `tls.ca` gets in.
   */
  static async listen(
    where: { host: string; port: number },
    log: Logger,
    opts: { verifyPeer?: boolean; tls?: { key: string; cert: string; ca: string } | null } = {},
  ): Promise<OpenFlowListener> {
    // Echo every 2 s and give up after 6 s of silence: a dead switch is noticed quickly.
    const server = new OpenFlowServer({
      host: where.host,
      port: where.port,
      logger: log,
      echoIntervalMs: 2000,
      idleTimeoutMs: 6000,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    server.on('tlsRefused', ({ remote, reason }) =>
      log.warn(
        { remote, reason },
        "refused a switch's TLS connection: its certificate is missing or not signed by the --openflow-ca",
      ),
    );
    const address = await server.listen();
    return new OpenFlowListener(server, address, log, opts.verifyPeer ?? true, Boolean(opts.tls));
  }

  onSwitch(listener: (link: SwitchLink) => void): void {
    this.server.on('connection', (conn) => {
      if (!this.verifyPeer || !conn.endpoints) {
        listener(new OpenFlowLink(conn, this.log));
        return;
      }
      const { local, peer } = conn.endpoints;
      void identifyPeer(local, peer).then(
        (v) => {
          if (conn.closed) return;
          if (v.kind === 'other') {
            this.log.warn(
              { remote: conn.remote, pid: v.pid, exe: v.exe, dpid: `0x${conn.dpid.toString(16).padStart(16, '0')}` },
              'refused an OpenFlow connection: the peer is not ovs-vswitchd',
            );
            conn.close('not ovs-vswitchd');
            return;
          }
          if (v.kind === 'unknown')
            this.log.warn(
              { remote: conn.remote, reason: v.reason },
              'cannot tell which program the switch is; taking it',
            );
          listener(new OpenFlowLink(conn, this.log));
        },
        (err: unknown) => {
          this.log.warn(
            { remote: conn.remote, err: String(err) },
            'cannot tell which program the switch is; taking it',
          );
          if (!conn.closed) listener(new OpenFlowLink(conn, this.log));
        },
      );
    });
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/**
 * The agent dials the bridge's management socket (`punix:<rundir>/<bridge>.mgmt`, which ovs-vswitchd opens for
 * every bridge) instead of waiting for ovs-vswitchd to dial it: a restarted agent is connected as soon as it asks,
 * not at the switch's next reconnect attempt (rconn backoff, ≥ 1 s). It is an OFCONN_SERVICE connection: OVS sends
 * it packet-ins and port-status only when miss_send_len is non-zero (connmgr.c, ofconn_receives_async_msg), which
 * the handshake's SET_CONFIG sets (0xffff). No peer check: the socket is ovs-vswitchd's, in its own run directory.
 * The bridge then has no controller at all, as ovn-controller leaves br-int.
 */
export class SwitchDialer implements SwitchListener {
  private readonly client: SwitchClient;
  readonly controller = null;
  readonly describe: string;

  constructor(
    target: string,
    private readonly log: Logger,
  ) {
    // The same keepalive as the listener's; a socket not there yet (the bridge is being created) is retried.
    this.client = new SwitchClient(target, {
      echoIntervalMs: 2000,
      idleTimeoutMs: 6000,
      minBackoffMs: 100,
      maxBackoffMs: 1000,
      logger: log,
    });
    this.describe = `dial ${target}`;
  }

  onSwitch(listener: (link: SwitchLink) => void): void {
    this.client.on('connected', (conn) => listener(new OpenFlowLink(conn, this.log)));
    this.client.start();
  }

  async close(): Promise<void> {
    this.client.stop();
  }
}
