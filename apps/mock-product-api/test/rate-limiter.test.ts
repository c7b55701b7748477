import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter.js';

describe('RateLimiter', () => {
  it('serves N requests per wall-clock second and tells the rest when to come back', () => {
    let now = 10_000_250;
    const limiter = new RateLimiter(3, () => now);
    expect([limiter.admit(), limiter.admit(), limiter.admit()].every((a) => a.ok)).toBe(true);
    expect(limiter.admit()).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 750; // the next second
    expect(limiter.admit().ok).toBe(true);
  });
});
