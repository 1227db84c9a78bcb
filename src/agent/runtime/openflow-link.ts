// SwitchListener/SwitchLink on the OpenFlow library (src/openflow OpenFlowServer, SwitchConnection).
import { type MeterMod, OpenFlowError, OpenFlowServer, type SwitchConnection } from '../../openflow/index.js';
import type { Flow, FlowMod } from '../../openflow/types.js';
import type { Logger } from '../../util/log.js';
import type { MeterSpec } from '../pipeline/meters.js';
import type { PacketInEvent, SwitchLink, SwitchListener } from './deps.js';

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

  sendFlowMods(mods: FlowMod[], opts: { bundle: boolean }): Promise<void> {
    return this.conn.sendFlowMods(mods, { bundle: opts.bundle });
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
}

export class OpenFlowListener implements SwitchListener {
  private readonly server: OpenFlowServer;

  private constructor(
    server: OpenFlowServer,
    readonly address: { host: string; port: number },
    private readonly log: Logger,
  ) {
    this.server = server;
  }

  static async listen(where: { host: string; port: number }, log: Logger): Promise<OpenFlowListener> {
    // Echo every 2 s and give up after 6 s of silence: a dead switch is noticed quickly.
    const server = new OpenFlowServer({
      host: where.host,
      port: where.port,
      logger: log,
      echoIntervalMs: 2000,
      idleTimeoutMs: 6000,
    });
    const address = await server.listen();
    return new OpenFlowListener(server, address, log);
  }

  onSwitch(listener: (link: SwitchLink) => void): void {
    this.server.on('connection', (conn) => listener(new OpenFlowLink(conn, this.log)));
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
