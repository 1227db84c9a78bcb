// Token buckets: `burst` requests at once, refilled at `perSecond`, one bucket per key (a credential, a login
// name, a source address). Used by the request guard (per credential, by role) and Keystone logins.
import type { RateLimit } from './policy.js';

/** Beyond this many keys, buckets that have refilled (they hold nothing) are forgotten. */
const MAX_KEYS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly rate: RateLimit) {}

  /** Takes one request's token for `key`: 0 when there was one, else the whole seconds until there is. */
  take(key: string, now = Date.now()): number {
    const { perSecond, burst } = this.rate;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= MAX_KEYS) this.forgetFull(now);
      this.buckets.set(key, b);
    }
    if (b.tokens < 1) return Math.ceil((1 - b.tokens) / perSecond);
    b.tokens -= 1;
    return 0;
  }

  private forgetFull(now: number): void {
    const { perSecond, burst } = this.rate;
    for (const [key, b] of this.buckets)
      if (b.tokens + ((now - b.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
  }
}
