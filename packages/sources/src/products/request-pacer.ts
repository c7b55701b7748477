import type { RateLimitStatus } from './rate-limit-headers.js';

/**
 * Added after a window's reset before the first request of the next window,
 * for clocks a little apart.
 * @defaultValue 25 ms
 */
export const RESET_MARGIN_MS = 25;

/**
 * Spreads the requests of one snapshot over the API's rate-limit window, as
 * its headers describe it (`readRateLimitHeaders`), so that a steady snapshot
 * meets few or no 429s: each request starts no sooner than the previous
 * one's start plus the time left in the window divided by the requests left;
 * none left means waiting for the reset. Answers arrive out of order when
 * pages are fetched in parallel: an answer from an older window is ignored,
 * and within one window the lowest `remaining` wins, counted down locally as
 * requests start. Without headers nothing is paced.
 */
export class RequestPacer {
  private window: { remaining: number; resetAt: number } | undefined;
  private next = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes in what an answer's rate-limit headers said (undefined: they said nothing). */
  observe(status: RateLimitStatus | undefined): void {
    if (status === undefined) return;
    const resetAt = this.now() + status.resetMs;
    const w = this.window;
    // Reset times read from whole seconds move by up to a second between answers of one window.
    if (w === undefined || resetAt > w.resetAt + 1000) this.window = { remaining: status.remaining, resetAt };
    else if (resetAt >= w.resetAt - 1000) w.remaining = Math.min(w.remaining, status.remaining);
  }

  /**
   * Reserves the start time of the next request and answers how long to wait
   * for it (0: now). The caller decides whether to wait that long.
   */
  reserve(): number {
    const now = this.now();
    let start = Math.max(now, this.next);
    const w = this.window;
    if (w !== undefined && start < w.resetAt) {
      if (w.remaining <= 0) {
        start = w.resetAt + RESET_MARGIN_MS;
        this.window = undefined;
        this.next = start;
      } else {
        this.next = start + (w.resetAt - start) / w.remaining;
        w.remaining -= 1;
      }
    } else {
      this.window = undefined;
      this.next = start;
    }
    return Math.max(0, Math.ceil(start - now));
  }

  /** Gives back a reservation not used (the wait was too long to hold the job). */
  release(): void {
    this.next = this.now();
  }
}
