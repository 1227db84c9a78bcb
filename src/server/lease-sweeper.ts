// Expires lease policies' retentions on a timer: every server runs one; the times it acts on are stored, so a
// restart loses nothing and several servers on one PostgreSQL act once (lease-policies.ts sweepRetentions).
import type { Logger } from '../util/log.js';
import { retentionsDue, sweepRetentions } from './resources/lease-policies.js';
import type { Service } from './service.js';

/** How often a server looks for due retentions (OpenVNet's services checked every 60 s). */
export const DEFAULT_LEASE_SWEEP_MS = 5_000;

export class LeaseSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly service: Service,
    private readonly intervalMs: number,
    private readonly log?: Logger,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep().finally(() => {
        this.running = null;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: a read first, so a server with nothing due writes nothing. */
  async sweep(now = Date.now()): Promise<number> {
    try {
      if (!(await this.service.read((ctx) => retentionsDue(ctx, now)))) return 0;
      const { result } = await this.service.write((ctx) => sweepRetentions(ctx, now));
      if (result > 0) this.log?.info({ leases: result }, 'lease retentions expired');
      return result;
    } catch (err) {
      // The store may be down for a while: the next pass retries, nothing was half done (one transaction).
      this.log?.warn({ err }, 'lease retention sweep failed');
      return 0;
    }
  }
}
