// Gratuitous ARPs for the addresses this host answers for on a segment (floating IPs of VMs here, router
// addresses of networks whose active gateway this is), so the segment's switches and neighbours follow a move.
import { OFPP } from '../../openflow/types.js';
import { gratuitousArpFrame } from '../../packet/arp.js';
import type { Logger } from '../../util/log.js';
import {
  type Binding,
  floatingAnnouncements,
  gatewayAnnouncements,
  type LocalContext,
  type ModelView,
  statusContext,
} from '../pipeline/index.js';
import type { SwitchLink } from './deps.js';
import { errText } from './errors.js';

/**
 * When an address is (re)announced on a segment: gratuitous ARPs at these delays. Dense for the first 4 s: a
 * link just restored may drop frames for a second or two after its carrier is back (the lab's segment did,
 * now and then), and a takeover whose GARPs all fall in that window is only noticed when the upstream router
 * re-probes its ARP entry (6.5 s of loss in the SNAT e2e; with 0/0.5/2 s, 2 of 3 runs lost it).
 */
const GARP_SCHEDULE_MS = [0, 250, 500, 1000, 1500, 2000, 3000, 4000];

export class Announcer {
  /** Addresses announced (GARP) on `announcedLink`: address → the MAC/port/VLAN it was announced with. */
  private announced = new Map<string, string>();
  private announcedLink: SwitchLink | null = null;

  constructor(private readonly log: Logger) {}

  /**
   * A gratuitous ARP for each address this host answers for, once its flows are in: when it is new, when it
   * moved here (VM move, gateway takeover), and again on a new switch connection. Returns the translations
   * whose addresses are announced (the active ones, for their status reports).
   */
  announce(
    link: SwitchLink,
    view: ModelView,
    local: LocalContext,
    bindings: ReadonlyMap<string, Binding>,
  ): Set<string> {
    if (this.announcedLink !== link) {
      this.announcedLink = link;
      this.announced.clear();
    }
    const now = new Map<string, string>();
    const ctx = statusContext(view, local, bindings);
    const announcements = [...floatingAnnouncements(ctx), ...gatewayAnnouncements(ctx)];
    for (const a of announcements) {
      const sig = `${a.mac}/${a.ofport}/${a.vlan ?? ''}`;
      now.set(a.address, sig);
      if (this.announced.get(a.address) === sig) continue;
      this.log.info(
        { address: a.address, mac: a.mac, port: a.ofport, vlan: a.vlan },
        'announcing an address on the segment',
      );
      const send = () => {
        // Only while it is still announced so, on this connection.
        if (this.announcedLink !== link || this.announced.get(a.address) !== sig) return;
        link
          .packetOut({ inPort: OFPP.CONTROLLER, outPort: a.ofport, data: gratuitousArpFrame(a.mac, a.address, a.vlan) })
          .catch((err: unknown) => this.log.warn({ err: errText(err), address: a.address }, 'gratuitous ARP failed'));
      };
      // Repeated, as keepalived and OVN do: the first may leave while a just-restored link does not forward yet.
      for (const ms of GARP_SCHEDULE_MS) setTimeout(send, ms).unref();
    }
    this.announced = now;
    return new Set(announcements.flatMap((a) => (a.translationUuid ? [a.translationUuid] : [])));
  }
}
