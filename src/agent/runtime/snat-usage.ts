// What this host's SNAT gateways use and refuse (issue 17: port exhaustion shows as a counter, never as silent
// loss). While the host is the active gateway of a snat translation, every POLL_MS it reads: the connections in
// the translation's conntrack zone (ovs-vswitchd's `dpctl/ct-stats-show zone=N`, over unixctl), the packets of new
// connections conntrack could not translate (the packet count of the translation's snat_refused flow in table
// snat_result, over OpenFlow: OVS 3.1's userspace conntrack counts nothing itself when it runs out of ports), and
// how full the whole conntrack table is. A refusal is logged (once per poll that saw new ones) as well as counted.
import { COOKIE_MASK_EXACT, cookieFor, TABLE } from '../pipeline/index.js';
import type { Logger } from '../../util/log.js';
import type { SwitchLink, VswitchControl } from './deps.js';
import { errText } from './errors.js';

/** How often usage is read while this host translates for some router. */
export const SNAT_POLL_MS = 5_000;
/** OVS's source ports for a client port ≥ 1024 when the nat action names none (lib/conntrack.c). */
const OVS_EPHEMERAL_PORTS = { min: 1024, max: 65535 };

/** One snat translation served here, as the metrics show it. */
export interface SnatUsageReading {
  /** Connections in its conntrack zone at the last poll; null until read (or when ovs-vswitchd cannot be asked). */
  connections: number | null;
  /** Source ports per destination address and port: the most connections to one destination at once. */
  ports: number;
  /** Packets of new connections conntrack could not translate (dropped), since the agent started. */
  refusedPackets: number;
}

export interface SnatUsageStatus {
  translations: Record<string, SnatUsageReading>;
  /** The conntrack table of this host's datapath (all zones); null until read. */
  table: { connections: number; max: number } | null;
}

interface Tracked {
  zone: number;
  connections: number | null;
  /** Refused packets counted before the current flow (it restarts from 0 when re-installed). */
  refusedBefore: number;
  /** The current flow's packet count at the last poll. */
  refusedSeen: number;
}

export class SnatUsage {
  private readonly tracked = new Map<string, Tracked>();
  private table: SnatUsageStatus['table'] = null;
  private link: SwitchLink | null = null;
  /** The translations served here now: uuid → conntrack zone. */
  private active: ReadonlyMap<string, number> = new Map();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly vswitch: VswitchControl | undefined,
    private readonly ports: { min: number; max: number } | null,
    private readonly log: Logger,
    private readonly pollMs = SNAT_POLL_MS,
  ) {}

  /** The snat translations this host serves now (uuid → conntrack zone) over `link`; polls while there are any. */
  track(active: ReadonlyMap<string, number>, link: SwitchLink | null): void {
    this.link = link;
    for (const [uuid, t] of this.tracked)
      if (!active.has(uuid) && t.refusedBefore + t.refusedSeen === 0) this.tracked.delete(uuid);
    for (const [uuid, zone] of active) {
      const t = this.tracked.get(uuid);
      if (!t) this.tracked.set(uuid, { zone, connections: null, refusedBefore: 0, refusedSeen: 0 });
      else t.zone = zone;
    }
    this.active = active;
    if (active.size > 0 && !this.timer) {
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      this.timer.unref();
      void this.poll();
    } else if (active.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  status(): SnatUsageStatus {
    const range = this.ports ?? OVS_EPHEMERAL_PORTS;
    const capacity = range.max - range.min + 1;
    const translations: Record<string, SnatUsageReading> = {};
    for (const [uuid, t] of this.tracked)
      translations[uuid] = {
        // A translation no longer served here holds nothing here (its refusals stay counted).
        connections: this.active.has(uuid) ? t.connections : 0,
        ports: capacity,
        refusedPackets: t.refusedBefore + t.refusedSeen,
      };
    return { translations, table: this.table };
  }

  /** Reads everything once now (also what the timer does); never throws. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const link = this.link;
      for (const [uuid, zone] of this.active) {
        const t = this.tracked.get(uuid);
        if (!t) continue;
        if (this.vswitch?.zoneConnections)
          t.connections = await this.vswitch.zoneConnections(zone).catch((err: unknown) => {
            this.log.debug({ err: errText(err), zone }, 'cannot read the snat zone from ovs-vswitchd');
            return null;
          });
        if (link?.flowCounts) {
          const counts = await link
            .flowCounts({
              table: TABLE.snat_result,
              cookie: cookieFor('translation', uuid, 'snat_refused'),
              cookieMask: COOKIE_MASK_EXACT,
            })
            .catch(() => null);
          if (counts && counts.length > 0) {
            const now = Number(counts.reduce((a, c) => a + c.packets, 0n));
            // A re-installed flow (failback, switch restart) starts again from 0: keep what the old one counted.
            if (now < t.refusedSeen) t.refusedBefore += t.refusedSeen;
            const newlyRefused = now < t.refusedSeen ? now : now - t.refusedSeen;
            t.refusedSeen = now;
            if (newlyRefused > 0)
              this.log.warn(
                { translation: uuid, zone, refusedPackets: t.refusedBefore + now, connections: t.connections },
                'snat could not translate new connections (no free source port, or the conntrack limit): dropped',
              );
          }
        }
      }
      if (this.vswitch?.conntrackTable) this.table = await this.vswitch.conntrackTable().catch(() => this.table);
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
