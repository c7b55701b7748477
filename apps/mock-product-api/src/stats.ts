/** What the mock has seen, for tests and benchmarks (`GET /__stats`, `handle.stats()`). */
export interface MockApiStats {
  /** Every `/products` request received. */
  requests: number;
  /** Responses by HTTP status, plus `reset` (connection destroyed) and `stalled` (never answered). */
  byOutcome: Record<string, number>;
  /** `/products` requests per 1-based page index. */
  byPage: Record<string, number>;
  /** Most `/products` requests received within one wall-clock second. */
  maxRequestsPerSecond: number;
  /** Most 200 answers given within one wall-clock second. */
  maxServedPerSecond: number;
  /** 429 answers (the limiters' and scripted ones). */
  rateLimited: number;
  /** With a window limit: most `/products` requests received, and most 200 answers given, within one of its windows. */
  maxRequestsPerWindow: number;
  maxServedPerWindow: number;
}

/** Counts requests and outcomes, with per-second peaks. */
export class StatsRecorder {
  private requests = 0;
  private readonly byOutcome = new Map<string, number>();
  private readonly byPage = new Map<number, number>();
  private readonly received = new WindowPeak(1000);
  private readonly served = new WindowPeak(1000);
  private readonly receivedPerWindow: WindowPeak;
  private readonly servedPerWindow: WindowPeak;

  /** @param windowMs the window limiter's window, for the per-window peaks (1 s without one) */
  constructor(
    private readonly now: () => number = Date.now,
    windowMs = 1000,
  ) {
    this.receivedPerWindow = new WindowPeak(windowMs);
    this.servedPerWindow = new WindowPeak(windowMs);
  }

  /** A `/products` request arrived for `page` (undefined when its parameters were bad); answers when (for `outcome`). */
  request(page: number | undefined): number {
    const at = this.now();
    this.requests += 1;
    if (page !== undefined) this.byPage.set(page, (this.byPage.get(page) ?? 0) + 1);
    this.received.add(at);
    this.receivedPerWindow.add(at);
    return at;
  }

  /**
   * How a `/products` request ended: an HTTP status, `reset` or `stalled`. A
   * 200 counts in the window its request arrived in (`receivedAt`, what
   * `request` answered), which is where the limiter admitted it: a page that
   * takes a while to render never moves into the next window.
   */
  outcome(outcome: number | 'reset' | 'stalled', receivedAt: number = this.now()): void {
    const key = String(outcome);
    this.byOutcome.set(key, (this.byOutcome.get(key) ?? 0) + 1);
    if (outcome === 200) {
      this.served.add(receivedAt);
      this.servedPerWindow.add(receivedAt);
    }
  }

  snapshot(): MockApiStats {
    return {
      requests: this.requests,
      byOutcome: Object.fromEntries(this.byOutcome),
      byPage: Object.fromEntries([...this.byPage].map(([k, v]) => [String(k), v])),
      maxRequestsPerSecond: this.received.max,
      maxServedPerSecond: this.served.max,
      rateLimited: this.byOutcome.get('429') ?? 0,
      maxRequestsPerWindow: this.receivedPerWindow.max,
      maxServedPerWindow: this.servedPerWindow.max,
    };
  }

  reset(): void {
    this.requests = 0;
    this.byOutcome.clear();
    this.byPage.clear();
    for (const peak of [this.received, this.served, this.receivedPerWindow, this.servedPerWindow]) peak.reset();
  }
}

/** The largest count of events within one window (aligned on multiples of `windowMs` since the epoch). */
class WindowPeak {
  private second = -1;
  private count = 0;
  max = 0;

  constructor(private readonly windowMs: number) {}

  add(now: number): void {
    const second = Math.floor(now / this.windowMs);
    if (second !== this.second) {
      this.second = second;
      this.count = 0;
    }
    this.count += 1;
    if (this.count > this.max) this.max = this.count;
  }

  reset(): void {
    this.second = -1;
    this.count = 0;
    this.max = 0;
  }
}
