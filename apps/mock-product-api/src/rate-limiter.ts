/**
 * A fixed-window limiter: at most `perSecond` requests are served in each
 * wall-clock second; the rest are told to come back when the window turns.
 */
export class RateLimiter {
  private window = -1;
  private served = 0;

  constructor(
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits one request (counting it) or answers the `Retry-After` seconds to send. */
  admit(): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    const window = Math.floor(now / 1000);
    if (window !== this.window) {
      this.window = window;
      this.served = 0;
    }
    if (this.served < this.perSecond) {
      this.served += 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((window + 1) * 1000 - now) / 1000)) };
  }
}
