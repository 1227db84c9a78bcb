// The switch's meters kept to what the desired flows name (a port's DHCP punt is rate-limited by one): added
// before the flows that name them, deleted after the last flow naming one is gone.
import type { Flow } from '../../openflow/types.js';
import type { Logger } from '../../util/log.js';
import { type MeterSpec, meterSpec, metersOf } from '../pipeline/index.js';
import type { SwitchLink } from './deps.js';
import { errText } from './errors.js';

export class Meters {
  /** Meters installed on `link` in this connection; a new connection starts empty (re-ensures all). */
  private installed = new Set<number>();
  private link: SwitchLink | null = null;

  constructor(private readonly log: Logger) {}

  /** Meter ids the desired flows name. */
  wanted(desired: readonly Flow[]): Set<number> {
    const ids = new Set<number>();
    for (const f of desired) metersOf(f, ids);
    return ids;
  }

  /** Before the flows that name them: a flow naming a missing meter is rejected by the switch. */
  async install(link: SwitchLink, wanted: Set<number>): Promise<void> {
    this.follow(link);
    const missing = [...wanted].filter((id) => !this.installed.has(id));
    if (missing.length === 0) return;
    const specs = missing.map((id) => meterSpec(id));
    const unknown = missing.filter((_, k) => specs[k] === null);
    if (unknown.length > 0) throw new Error(`flows name meters the pipeline does not declare: ${unknown.join(', ')}`);
    await link.ensureMeters(specs as MeterSpec[]);
    for (const id of missing) this.installed.add(id);
    this.log.info({ meters: missing.length, total: this.installed.size }, 'meters installed');
  }

  /** After the flows that named them are gone (deleting a meter in use would delete its flows too). */
  async removeUnused(link: SwitchLink, wanted: Set<number>): Promise<void> {
    this.follow(link);
    const unused = [...this.installed].filter((id) => !wanted.has(id));
    if (unused.length === 0) return;
    try {
      await link.deleteMeters(unused);
      for (const id of unused) this.installed.delete(id);
      this.log.info({ meters: unused.length, total: this.installed.size }, 'unused meters deleted');
    } catch (err) {
      // A leftover meter costs nothing but a slot; the next change retries.
      this.log.warn({ err: errText(err), meters: unused }, 'deleting unused meters failed');
    }
  }

  /** A new connection: the switch may have restarted, so nothing is known installed. */
  private follow(link: SwitchLink): void {
    if (this.link === link) return;
    this.link = link;
    this.installed = new Set();
  }
}
