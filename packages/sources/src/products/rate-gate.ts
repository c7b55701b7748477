import { setTimeout as delay } from 'node:timers/promises';

/**
 * Shared by every page of one snapshot: when the API says "wait" (429 with
 * Retry-After) no page of this snapshot asks again before the wait is over.
 */
export class RateGate {
  private notBefore = 0;

  /** Closes the gate for `ms` from now (never shortens an earlier wait). */
  hold(ms: number): void {
    this.notBefore = Math.max(this.notBefore, Date.now() + ms);
  }

  /** Resolves when the gate is open; rejects when `signal` aborts. */
  async pass(signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.notBefore - Date.now();
      if (wait <= 0) return;
      await delay(wait, undefined, { signal });
    }
  }
}
