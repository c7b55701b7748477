import { describe, expect, it } from 'vitest';
import { loadConfig } from '@recomart/config';
import { RateLimitedError, TransientError } from '@recomart/jobs';
import { ingestBackoff, ingestJobOptions, INGEST_BACKOFF } from '@recomart/queue';

describe('default ingest job options', () => {
  it('come from the config: attempts, the ingest backoff, and bounded retention by age and count', () => {
    const opts = ingestJobOptions(
      loadConfig({ JOB_ATTEMPTS: '5', JOB_BACKOFF_MS: '1000', JOB_KEEP_COMPLETED_AGE_S: '60', JOB_KEEP_COMPLETED_COUNT: '10', JOB_KEEP_FAILED_AGE_S: '120', JOB_KEEP_FAILED_COUNT: '20' }),
    );
    expect(opts).toEqual({
      attempts: 5,
      backoff: { type: INGEST_BACKOFF, delay: 1000 },
      removeOnComplete: { age: 60, count: 10 },
      removeOnFail: { age: 120, count: 20 },
    });
    expect(ingestJobOptions(loadConfig({})).attempts).toBe(8);
  });
});

describe('the ingest backoff', () => {
  it('is exponential with jitter: between half and all of base × 2^(attempt-1)', () => {
    const err = new TransientError('HTTP 503');
    expect(ingestBackoff(1, 30_000, err, () => 0)).toBe(15_000);
    expect(ingestBackoff(1, 30_000, err, () => 1)).toBe(30_000);
    expect(ingestBackoff(3, 30_000, err, () => 0)).toBe(60_000);
    expect(ingestBackoff(3, 30_000, err, () => 1)).toBe(120_000);
  });

  it('is capped at an hour', () => {
    expect(ingestBackoff(30, 30_000, new TransientError('x'), () => 1)).toBe(3_600_000);
  });

  it("lets a source's Retry-After win", () => {
    expect(ingestBackoff(4, 30_000, new RateLimitedError('HTTP 429', { retryAfterMs: 1234 }), () => 1)).toBe(1234);
  });
});
