// This host as the pipeline sees it: the bridge's ports read from OVSDB — the two tunnel ports, and the ports VMs
// and containers sit on with their iface-id, MAC and whether their link counts as up (after a carrier delay).
import type { Logger } from '../../util/log.js';
import type { LocalContext, LocalPort } from '../pipeline/index.js';
import { METADATA_PORT_NAME } from '../pipeline/metadata.js';
import { TUNNEL_PORTS } from './bridge-takeover.js';
import type { BridgeControl } from './deps.js';
import type { AgentConfig } from './options.js';

/**
 * A port whose carrier came back counts as up only after it has stayed up this long (a routers' "carrier
 * delay"): carrier is not forwarding — in the lab a restored link dropped frames for 4–5 s after its carrier
 * returned — and a gateway that takes back its router on carrier alone blackholes it for that long, while
 * the standby was serving it fine. Carrier loss counts at once.
 */
const CARRIER_UP_DELAY_MS = 6000;

export class HostPorts {
  /** Ports whose carrier was lost: when it came back (null while still down). */
  private readonly carrierBack = new Map<string, number | null>();
  private local: { sig: string; ctx: LocalContext } | null = null;

  constructor(
    private readonly cfg: Pick<AgentConfig, 'bridge' | 'tunnelIp' | 'encap' | 'underlayMtu' | 'snatPorts' | 'metadata'>,
    private readonly bridge: Pick<BridgeControl, 'interfaces'>,
    private readonly log: Logger,
    /** Called when a port's carrier delay runs out: the host has changed then, with no OVSDB event to say so. */
    private readonly settled: () => void,
  ) {}

  /**
   * This host as the pipeline sees it. The same object is returned while nothing changed: the
   * compiler treats a new LocalContext as "the host changed" and recomputes what depends on it.
   */
  context(datapathUuid: string, dpid: bigint, registeredIp: string | null): LocalContext {
    const ports = new Map<string, LocalPort>();
    const tunnelPorts: LocalContext['tunnelPorts'] = { gre: null, vxlan: null };
    let metadataPort: number | null = null;
    for (const p of this.bridge.interfaces(this.cfg.bridge)) {
      if (p.ofport === null || p.ofport < 1) continue;
      if (p.name === TUNNEL_PORTS.gre) tunnelPorts.gre = p.ofport;
      else if (p.name === TUNNEL_PORTS.vxlan) tunnelPorts.vxlan = p.ofport;
      // The agent's own metadata port is no VM's port: the pipeline steers metadata requests to it.
      else if (p.name === METADATA_PORT_NAME) metadataPort = this.cfg.metadata ? p.ofport : null;
      // Internal ports may be VM/container ports too; only the bridge's own (LOCAL) port is skipped.
      else if (p.name !== this.cfg.bridge && p.type !== 'gre' && p.type !== 'vxlan' && p.type !== 'patch') {
        const entry: LocalPort = { ofport: p.ofport };
        if (p.ifaceId) entry.ifaceId = p.ifaceId;
        if (p.attachedMac) entry.attachedMac = p.attachedMac;
        if (!this.carrierSettled(p.name, p.linkUp)) entry.linkUp = false;
        ports.set(p.name, entry);
      }
    }
    const ctx: LocalContext = {
      datapathUuid,
      dpid,
      tunnelIp: this.cfg.tunnelIp ?? registeredIp,
      encap: this.cfg.encap,
      tunnelPorts,
      metadataPort,
      ports,
      underlayMtu: this.cfg.underlayMtu,
      ...(this.cfg.snatPorts ? { snatPorts: this.cfg.snatPorts } : {}),
    };
    const sig = JSON.stringify({ ...ctx, dpid: String(ctx.dpid), ports: [...ports].sort() });
    if (this.local?.sig === sig) return this.local.ctx;
    this.local = { sig, ctx };
    return ctx;
  }

  /** The tunnel ports' ofports as last read (none before the first context). */
  get tunnelPorts(): LocalContext['tunnelPorts'] {
    return this.local?.ctx.tunnelPorts ?? { gre: null, vxlan: null };
  }

  /** Whether a port's link counts as up: not down, and up for CARRIER_UP_DELAY_MS if it was down before. */
  private carrierSettled(port: string, linkUp: boolean | undefined): boolean {
    if (linkUp === false) {
      this.carrierBack.set(port, null);
      return false;
    }
    if (!this.carrierBack.has(port)) return true;
    const now = Date.now();
    const since = this.carrierBack.get(port) ?? now;
    this.carrierBack.set(port, since);
    const left = since + CARRIER_UP_DELAY_MS - now;
    if (left <= 0) {
      this.carrierBack.delete(port);
      this.log.info({ port }, 'link up and settled: counted as up again');
      return true;
    }
    if (since === now) {
      this.log.info({ port, delayMs: CARRIER_UP_DELAY_MS }, 'carrier back: counted as up once it stays up');
      setTimeout(() => this.settled(), left + 20).unref();
    }
    return false;
  }
}
