import { describe, expect, it } from 'vitest';
import { loadConfig } from '@recomart/config';
import { handbackLimitMet, type HandbackStanding } from '../src/products/handback-limits.js';
import { readRateLimitHeaders, resetOf } from '../src/products/rate-limit-headers.js';
import { RequestPacer, RESET_MARGIN_MS } from '../src/products/request-pacer.js';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name.toLowerCase()] ?? null });
const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('readRateLimitHeaders', () => {
  it('tells an epoch-seconds X-RateLimit-Reset (GitHub) from seconds-from-now, and reads epoch milliseconds too', () => {
    expect(readRateLimitHeaders(headers({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': String(NOW / 1000 + 9) }), NOW)).toEqual({ limit: 100, remaining: 7, resetMs: 9000, exact: true });
    expect(readRateLimitHeaders(headers({ 'x-ratelimit-remaining': '7', 'x-ratelimit-reset': '9' }), NOW)).toEqual({ limit: undefined, remaining: 7, resetMs: 9000, exact: false });
    expect(resetOf(NOW + 1500, NOW)).toEqual({ resetMs: 1500, exact: true });
    expect(resetOf(NOW / 1000 - 5, NOW).resetMs, 'a reset in the past is now').toBe(0);
  });

  it('reads RateLimit-Limit/-Remaining/-Reset', () => {
    expect(readRateLimitHeaders(headers({ 'ratelimit-limit': '60', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' }), NOW)).toEqual({ limit: 60, remaining: 0, resetMs: 30_000, exact: false });
  });

  it('reads the IETF RateLimit field in its older list form and its structured form, with RateLimit-Policy', () => {
    const delta = { exact: false };
    expect(readRateLimitHeaders(headers({ ratelimit: 'limit=100, remaining=50, reset=5' }), NOW)).toEqual({ limit: 100, remaining: 50, resetMs: 5000, ...delta });
    expect(readRateLimitHeaders(headers({ ratelimit: '"default";r=3;t=2', 'ratelimit-policy': '"default";q=20;w=2' }), NOW)).toEqual({ limit: 20, remaining: 3, resetMs: 2000, ...delta });
    expect(readRateLimitHeaders(headers({ ratelimit: '"burst";r=3;t=2, "daily";r=900;t=3600', 'ratelimit-policy': '"burst";q=20;w=2, "daily";q=1000;w=86400' }), NOW)).toEqual({ limit: 20, remaining: 3, resetMs: 2000, ...delta });
    expect(readRateLimitHeaders(headers({ ratelimit: 'remaining=9', 'ratelimit-policy': '10;w=60' }), NOW), 'the window stands in for a missing reset').toEqual({ limit: 10, remaining: 9, resetMs: 60_000, ...delta });
  });

  it('says nothing without both what is left and when it resets, or for unreadable values', () => {
    const cases: Record<string, string>[] = [{}, { 'x-ratelimit-remaining': '5' }, { 'x-ratelimit-remaining': '-1', 'x-ratelimit-reset': '5' }, { 'x-ratelimit-remaining': 'lots', 'x-ratelimit-reset': '5' }, { ratelimit: '"default";t=2' }];
    for (const h of cases) {
      expect(readRateLimitHeaders(headers(h), NOW), JSON.stringify(h)).toBeUndefined();
    }
  });
});

describe('RequestPacer', () => {
  const status = (remaining: number, resetMs: number, exact = true) => ({ limit: undefined, remaining, resetMs, exact });

  it('spreads the requests left over the time left in the window, and waits for the reset when none are left', () => {
    let now = 0;
    const pacer = new RequestPacer(() => now);
    const first = pacer.reserve();
    expect(first.waitMs, 'nothing known: go').toBe(0);
    pacer.observe(status(4, 1000), first.seq);
    expect([1, 2, 3, 4].map(() => pacer.reserve().waitMs)).toEqual([0, 250, 500, 750]);
    const fifth = pacer.reserve();
    expect(fifth.waitMs, 'the fifth goes when the window turns').toBe(1000);
    now = 1000;
    pacer.observe(status(0, 1000), fifth.seq);
    expect(pacer.reserve().waitMs, 'none left: wait for the reset (and a margin)').toBe(1000 + RESET_MARGIN_MS);
    now = 2000 + RESET_MARGIN_MS;
    expect(pacer.reserve().waitMs, 'a new window, not yet described: go').toBe(0);
  });

  it('takes the requests sent after an answer off its remaining count', () => {
    const pacer = new RequestPacer(() => 0);
    const burst = [1, 2, 3, 4].map(() => pacer.reserve());
    expect(burst.map((t) => t.waitMs), 'a new window: four go at once').toEqual([0, 0, 0, 0]);
    // The first answer says 9 left, but three more requests were already sent after it: 6 left, over 1 s.
    pacer.observe(status(9, 1000), burst[0]?.seq ?? 0);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => pacer.reserve().waitMs)).toEqual([0, 167, 334, 500, 667, 834, 1000]);
  });

  it('ignores an answer from an older window and keeps the lowest remaining of the current one', () => {
    let now = 10_000;
    const pacer = new RequestPacer(() => now);
    const a = pacer.reserve();
    pacer.observe(status(9, 10_000), a.seq);
    pacer.observe(status(3, 10_000), a.seq);
    pacer.observe(status(8, 10_000), a.seq);
    expect(pacer.reserve().waitMs).toBe(0);
    expect(pacer.reserve().waitMs, '3 left over 10 s: one every 3.3 s').toBe(3334);
    now += 20_000;
    const b = pacer.reserve();
    pacer.observe(status(10, 5_000), b.seq);
    pacer.observe(status(0, -15_000), a.seq);
    expect(pacer.reserve().waitMs, 'the stale answer of the old window is ignored').toBe(0);
  });

  it('allows a second of drift between answers when the reset is in whole seconds from now', () => {
    let now = 0;
    const pacer = new RequestPacer(() => now);
    const a = pacer.reserve();
    pacer.observe(status(10, 2000, false), a.seq);
    now = 900;
    pacer.observe(status(2, 2000, false), a.seq);
    expect(pacer.reserve().waitMs, 'the same window (reset read 900 ms later): 2 left').toBe(0);
    expect(pacer.reserve().waitMs).toBe(550);
  });

  it('paces nothing when the headers say nothing', () => {
    const pacer = new RequestPacer(() => 0);
    pacer.observe(undefined, pacer.reserve().seq);
    expect([pacer.reserve(), pacer.reserve(), pacer.reserve()].map((t) => t.waitMs)).toEqual([0, 0, 0]);
  });
});

describe('handbackLimitMet', () => {
  const s = loadConfig({ PRODUCTS_MAX_STALLED_HANDBACKS: '3', PRODUCTS_MAX_SNAPSHOT_MS: '3600000' }).products;
  const standing: HandbackStanding = { stalledHandbacks: 2, firstRequestAt: NOW - 60_000, pages: 100, products: 100, pagesNeeded: 194, attempts: 3 };

  it('lets a snapshot go on below both limits', () => {
    expect(handbackLimitMet(standing, s, NOW)).toBeUndefined();
  });

  it('names the stalled hand-backs, the pages got and the settings to change', () => {
    expect(handbackLimitMet({ ...standing, stalledHandbacks: 3, attempts: 4 }, s, NOW)).toBe(
      "products snapshot gave up: rate limited with no new page in 3 hand-backs in a row (PRODUCTS_MAX_STALLED_HANDBACKS=3); got 100 of 194 pages (100 products) in 4 attempts over 60 s; to go on, raise PRODUCTS_MAX_STALLED_HANDBACKS or PRODUCTS_MAX_HANDBACK_MS, or set PRODUCTS_RATE_LIMIT below the API's limit",
    );
  });

  it('names the snapshot time limit', () => {
    expect(handbackLimitMet({ ...standing, stalledHandbacks: 0, pagesNeeded: undefined, firstRequestAt: NOW - 3_600_000 }, s, NOW)).toBe(
      'products snapshot gave up: still rate limited 60 min after its first request (PRODUCTS_MAX_SNAPSHOT_MS=3600000); got 100 pages (100 products) in 3 attempts over 60 min; to go on, raise PRODUCTS_MAX_SNAPSHOT_MS (and LAKE_STAGING_MAX_AGE_MS with it), or raise PRODUCTS_PAGE_SIZE so fewer requests are needed',
    );
  });
});
