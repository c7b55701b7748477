import type { Config } from '@recomart/config';
import type { DefaultJobOptions } from 'bullmq';

/** The custom backoff type name; its strategy is `ingestBackoff`. */
export const INGEST_BACKOFF = 'ingest';

/**
 * Default options of every ingest job, from the config:
 * - `attempts` JOB_ATTEMPTS (default 8)
 * - backoff: the `ingest` strategy, base JOB_BACKOFF_MS (default 30 s)
 * - completed jobs kept JOB_KEEP_COMPLETED_AGE_S / _COUNT, failed JOB_KEEP_FAILED_AGE_S / _COUNT, so Redis stays bounded.
 */
export function ingestJobOptions(config: Config): DefaultJobOptions {
  return {
    attempts: config.jobs.attempts,
    backoff: { type: INGEST_BACKOFF, delay: config.jobs.backoffMs },
    removeOnComplete: { age: config.jobs.keepCompleted.age, count: config.jobs.keepCompleted.count },
    removeOnFail: { age: config.jobs.keepFailed.age, count: config.jobs.keepFailed.count },
  };
}

/**
 * Delay before the next attempt: a `Retry-After` the source asked for wins;
 * otherwise exponential (base × 2^(attempt-1), capped at 1 h) with "equal
 * jitter" (half fixed, half random) so retries of many jobs spread out.
 *
 * @param attemptsMade attempts so far (1 after the first failure)
 * @param random injectable for tests
 */
export function ingestBackoff(
  attemptsMade: number,
  baseMs: number,
  err: unknown,
  random: () => number = Math.random,
): number {
  const asked = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof asked === 'number' && Number.isFinite(asked) && asked >= 0) return Math.round(asked);
  const exp = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), 3_600_000);
  return Math.round(exp / 2 + random() * (exp / 2));
}
