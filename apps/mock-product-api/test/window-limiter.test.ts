import { describe, expect, it } from 'vitest';
import { WindowLimiter } from '../src/window-limiter.js';

describe('WindowLimiter', () => {
  it('serves N per client in each aligned window, then 429 with Retry-After = the window and X-RateLimit-Reset in epoch seconds', () => {
    let now = 1_700_000_003_000; // 3 s into a 10 s window (windows start at multiples of 10 s)
    const limiter = new WindowLimiter({ limit: 2, windowMs: 10_000, headers: 'x' }, () => now);
    const reset = String(1_700_000_010);
    expect(limiter.admit('a')).toEqual({ ok: true, headers: { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': reset } });
    expect(limiter.admit('a').headers['x-ratelimit-remaining']).toBe('0');
    expect(limiter.admit('a')).toEqual({ ok: false, headers: { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset, 'retry-after': '10' } });
    expect(limiter.admit('b').ok, 'another client has its own count').toBe(true);
    now += 6_999;
    expect(limiter.admit('a').ok, 'still the same window').toBe(false);
    now += 1;
    expect(limiter.admit('a')).toMatchObject({ ok: true, headers: { 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String(1_700_000_020) } });
  });

  it('sends the IETF RateLimit fields (seconds to the reset), and a limit of 0 never lets anything through', () => {
    const now = 1_700_000_000_500;
    const ietf = new WindowLimiter({ limit: 20, windowMs: 2000, headers: 'ietf' }, () => now);
    expect(ietf.admit('a').headers).toEqual({ ratelimit: '"default";r=19;t=2', 'ratelimit-policy': '"default";q=20;w=2' });
    const never = new WindowLimiter({ limit: 0, windowMs: 1000, headers: 'none' }, () => now);
    expect(never.admit('a')).toEqual({ ok: false, headers: { 'retry-after': '1' } });
  });
});
