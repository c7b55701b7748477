import type { RateLimitStatus } from './rate-limit-headers.js';

/**
 * Added after a window's reset before the first request of the next window,
 * for clocks a little apart.
 * @defaultValue 25 ms
 */
export const RESET_MARGIN_MS = 25;

/** A request's place in the pacer's order: how long to wait before sending it, and its number. */
export interface PacerTicket {
  waitMs: number;
  /** Hand it back to `observe` with the answer's headers. */
  seq: number;
}

/**
 * Spreads the requests of one snapshot over the API's rate-limit window, as
 * its headers describe it (`readRateLimitHeaders`), so that a steady snapshot
 * meets few or no 429s: each request starts no sooner than the previous
 * one's start plus the time left in the window divided by the requests left;
 * none left means waiting for the reset. An answer's `remaining` does not
 * count the requests sent after it, so those are taken off it (pages are
 * fetched in parallel); an answer from an older window is ignored, and within
 * one window the lowest count wins. Without headers nothing is paced.
 */
export class RequestPacer {
  private window: { remaining: number; resetAt: number } | undefined;
  private next = 0;
  private sent = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes in what the answer to ticket `seq` said in its rate-limit headers (undefined: they said nothing). */
  observe(status: RateLimitStatus | undefined, seq: number): void {
    if (status === undefined) return;
    const resetAt = this.now() + status.resetMs;
    const remaining = status.remaining - (this.sent - seq);
    // An epoch reset is exact; whole seconds from now move by up to a second between answers of one window.
    const slack = status.exact ? 50 : 1000;
    const w = this.window;
    if (w === undefined || resetAt > w.resetAt + slack) this.window = { remaining, resetAt };
    else if (resetAt >= w.resetAt - slack) w.remaining = Math.min(w.remaining, remaining);
  }

  /**
   * Reserves the start time of the next request: wait `waitMs`, send, then
   * `observe` the answer with the ticket's `seq`. The caller decides whether
   * to wait that long (else `release`).
   */
  reserve(): PacerTicket {
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
    this.sent += 1;
    return { waitMs: Math.max(0, Math.ceil(start - now)), seq: this.sent };
  }

  /** Gives back a reservation not used (the wait was too long to hold the job). */
  release(): void {
    this.next = this.now();
  }
}
