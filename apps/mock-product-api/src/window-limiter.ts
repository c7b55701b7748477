/** A fixed-window rate limit: `limit` requests per `windowMs`, per client. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
  /**
   * Rate-limit headers on every answer: `x` sends `X-RateLimit-Limit`,
   * `-Remaining` and `-Reset` (epoch seconds, as GitHub does); `ietf` sends
   * `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers,
   * structured form); `none` sends only `Retry-After` on a 429.
   * @defaultValue 'x'
   */
  headers: 'x' | 'ietf' | 'none';
}

/** What the limiter says about one request. */
export interface WindowAdmission {
  ok: boolean;
  /** Headers to send with the answer (429 or not). */
  headers: Record<string, string>;
}

/**
 * A fixed-window limiter as real APIs run one: windows aligned on multiples
 * of `windowMs` since the epoch, `limit` requests per client in each; the rest
 * are answered 429 with a constant `Retry-After` equal to the window (what a
 * simple gateway sends, however soon the window turns).
 */
export class WindowLimiter {
  private window = -1;
  private readonly served = new Map<string, number>();

  constructor(
    readonly rule: WindowLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits one request of `client` (counting it) or refuses it. */
  admit(client: string): WindowAdmission {
    const now = this.now();
    const window = Math.floor(now / this.rule.windowMs);
    if (window !== this.window) {
      this.window = window;
      this.served.clear();
    }
    const used = this.served.get(client) ?? 0;
    const ok = used < this.rule.limit;
    if (ok) this.served.set(client, used + 1);
    const remaining = Math.max(0, this.rule.limit - used - (ok ? 1 : 0));
    const resetAt = (window + 1) * this.rule.windowMs;
    const headers = this.headersFor(remaining, resetAt, now);
    if (!ok) headers['retry-after'] = String(Math.ceil(this.rule.windowMs / 1000));
    return { ok, headers };
  }

  private headersFor(remaining: number, resetAt: number, now: number): Record<string, string> {
    const { limit, windowMs } = this.rule;
    switch (this.rule.headers) {
      case 'x':
        return { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(Math.ceil(resetAt / 1000)) };
      case 'ietf':
        return {
          ratelimit: `"default";r=${remaining};t=${Math.ceil((resetAt - now) / 1000)}`,
          'ratelimit-policy': `"default";q=${limit};w=${Math.ceil(windowMs / 1000)}`,
        };
      case 'none':
        return {};
    }
  }
}
