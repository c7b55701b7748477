/**
 * Longest backoff between two tries of one page, whatever the retry count.
 * @defaultValue 30 000 ms
 */
export const MAX_BACKOFF_MS = 30_000;

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter"): a uniform wait in [0, min(cap, base · 2^retry)), so
 * clients that failed together do not come back together.
 *
 * @param retry 0 for the first retry, 1 for the second …
 * @param random a uniform source in [0, 1) (injectable for tests)
 */
export function fullJitterDelay(retry: number, baseMs: number, random: () => number = Math.random, capMs: number = MAX_BACKOFF_MS): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}
