import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError, RateLimitExhaustedError } from '@recomart/jobs';
import { openLake, PROVENANCE_FILES, S3Lake, type Lake, type Manifest } from '@recomart/lake';
import { createTestBucket, type TestBucket } from '../../../test/helpers/test-s3.js';
import type { MockApiInput, PaginationStyle, WindowLimit } from '@recomart/mock-product-api';
import type { SourceResult } from '@recomart/sources';
import { productsHarness, type ProductsHarness } from './products-harness.js';

const open: ProductsHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const STYLES: readonly PaginationStyle[] = ['offset', 'page', 'cursor', 'link'];

async function harness(style: PaginationStyle, api: MockApiInput, env: Record<string, string>, lakeAt?: (dataDir: string) => Lake): Promise<ProductsHarness> {
  const h = await productsHarness({ pagination: style, ...api }, { PRODUCTS_PAGINATION: style, ...env }, lakeAt);
  open.push(h);
  return h;
}

/**
 * Runs the source as the queue would: a RateLimitedError hands the job back
 * for the wait it names (the API's own window), then the next attempt runs.
 */
async function untilDone(h: ProductsHarness, maxRuns: number, waitForHandback = true): Promise<{ result: SourceResult | undefined; handbacks: RateLimitedError[]; final: unknown }> {
  const handbacks: RateLimitedError[] = [];
  for (let run = 1; run <= maxRuns; run++) {
    try {
      return { result: await h.run(), handbacks, final: undefined };
    } catch (err) {
      if (!(err instanceof RateLimitedError)) return { result: undefined, handbacks, final: err };
      handbacks.push(err);
      if (waitForHandback) await delay(err.retryAfterMs ?? 0);
    }
  }
  throw new Error(`not done after ${maxRuns} runs: ${handbacks.map((e) => e.message).join(' | ')}`);
}

/**
 * Path and sha256 of every file, and the counts: what must be the same however many attempts it took. The request
 * log (`_requests.ndjson`, a provenance file) is left out: it records timings and the 429s.
 */
function content(m: Manifest | undefined): unknown {
  return { files: m?.files.filter((f) => !PROVENANCE_FILES.has(f.path)).map((f) => [f.path, f.sha256, f.bytes]), records: m?.records, rejected: m?.rejected, validation: m?.validation };
}

/** Every page asked for, and how many times. */
function requestsPerPage(h: ProductsHarness): number[] {
  return Object.values(h.api.stats().byPage);
}

describe.each(STYLES)('products source, %s pagination, behind a fixed-window limit that hands the job back', (style) => {
  it('resumes from the first page it lacks: 50 pages behind 20/1s complete, each fetched once, byte-identical to an unlimited snapshot, and a repeat is unchanged', async () => {
    const windowLimit: WindowLimit = { limit: 20, windowMs: 1000, headers: 'none' };
    // In-place waits off: every 429 hands the job back, so every window is one attempt.
    const h = await harness(style, { products: 50, windowLimit }, { PRODUCTS_PAGE_SIZE: '1', PRODUCTS_CONCURRENCY: '1', PRODUCTS_MAX_RETRY_AFTER_MS: '0' });
    const { result, handbacks } = await untilDone(h, 20);
    const stats = h.api.stats();
    expect(result, JSON.stringify(stats)).toMatchObject({ status: 'committed', version: 1, records: 50, files: 50 });
    // 50 pages need three windows of 20; an attempt that straddles a window's turn can take up to 40, so at least one hand-back.
    expect(handbacks.length, 'the limit was met and the job handed back').toBeGreaterThanOrEqual(1);
    expect(handbacks[0]?.resumeAtPage).toBeGreaterThan(1);
    expect(handbacks[0]?.message).toMatch(/; \d+ pages? kept, the next attempt resumes at page \d+$/);
    // Every page was served once; the only repeats are the one request per attempt that met the 429.
    expect(stats.byOutcome['200']).toBe(50);
    expect(stats.rateLimited).toBe(handbacks.length);
    expect(requestsPerPage(h).filter((n) => n > 2)).toEqual([]);
    // One page at a time: beyond the limit a window sees at most the one request that met the 429.
    expect(stats.maxRequestsPerWindow, JSON.stringify(stats)).toBeLessThanOrEqual(20 + 1);

    const manifest = await h.latest();
    const provenance = manifest?.provenance as { attempts: { pages: number; firstPage: number | null; lastPage: number | null; outcome: string }[]; rateLimitHandbacks: number; firstRequestAt: string; lastRequestAt: string };
    expect(provenance.rateLimitHandbacks).toBe(handbacks.length);
    expect(provenance.attempts).toHaveLength(handbacks.length + 1);
    expect(provenance.attempts.map((a) => a.outcome)).toEqual([...handbacks.map(() => 'rate-limited'), 'committed']);
    expect(provenance.attempts.reduce((n, a) => n + a.pages, 0), 'the attempts\' page ranges add up to the snapshot').toBe(50);
    expect(provenance.attempts[0]?.firstPage).toBe(1);
    expect(provenance.attempts.at(-1)?.lastPage).toBe(50);
    expect(Date.parse(provenance.lastRequestAt) - Date.parse(provenance.firstRequestAt)).toBeGreaterThanOrEqual(1000);
    expect(await h.staging()).toEqual([]);

    const unlimited = await harness(style, { products: 50 }, { PRODUCTS_PAGE_SIZE: '1', PRODUCTS_CONCURRENCY: '1' });
    await unlimited.run();
    expect(content(manifest), 'the same version as a snapshot fetched without interruption').toEqual(content(await unlimited.latest()));

    const again = await untilDone(h, 20);
    expect(again.result).toMatchObject({ status: 'unchanged', version: 1 });
  });
});

describe('products source on the S3 lake, behind a fixed-window limit that hands the job back', () => {
  let bucket: TestBucket | undefined;
  beforeAll(async () => {
    bucket = await createTestBucket('products-rate-limit');
  });
  afterAll(async () => {
    await bucket?.remove();
  });

  it('keeps its pages in the bucket between attempts: 50 pages behind 20/1s complete, each served once, as the folder lake\'s snapshot', async () => {
    const b = bucket as TestBucket;
    const prefix = `products-${Date.now().toString(36)}`;
    const h = await harness('offset', { products: 50, windowLimit: { limit: 20, windowMs: 1000, headers: 'none' } }, { PRODUCTS_PAGE_SIZE: '1', PRODUCTS_CONCURRENCY: '1', PRODUCTS_MAX_RETRY_AFTER_MS: '0' }, (dataDir) =>
      openLake({ dataDir, url: b.lakeUrl(prefix), s3: b.s3 }),
    );
    if (!(h.lake instanceof S3Lake)) throw new Error('an S3 lake was expected');
    const { result, handbacks } = await untilDone(h, 20);
    const stats = h.api.stats();
    expect(result, JSON.stringify(stats)).toMatchObject({ status: 'committed', version: 1, records: 50 });
    expect(handbacks.length, 'the limit was met and the job handed back').toBeGreaterThanOrEqual(1);
    // Resumed, not started over: no page was served twice.
    expect(stats.byOutcome['200'], JSON.stringify(stats)).toBe(50);
    expect(await b.store.listObjects(h.lake.layout.keptRoot()), 'no pointer to a kept staging left').toEqual([]);
    expect((await h.lake.verify()).problems).toEqual([]);

    const folder = await harness('offset', { products: 50 }, { PRODUCTS_PAGE_SIZE: '1', PRODUCTS_CONCURRENCY: '1' });
    await folder.run();
    expect(content(await h.latest()), 'the same version as an uninterrupted snapshot into a folder').toEqual(content(await folder.latest()));
  });
});

describe('products source, paced by the API\'s rate-limit headers', () => {
  it.each(STYLES)('%s style: 194 products at page size 1 behind 100/10s (X-RateLimit-*): one attempt, every page requested once, at most one 429 per window', async (style) => {
    const h = await harness(style, { products: 194, windowLimit: { limit: 100, windowMs: 10_000, headers: 'x' } }, { PRODUCTS_PAGE_SIZE: '1', PRODUCTS_MAX_RETRY_AFTER_MS: '15000' });
    const started = Date.now();
    const { result, handbacks } = await untilDone(h, 5);
    const stats = h.api.stats();
    expect(result, JSON.stringify(stats)).toMatchObject({ status: 'committed', records: 194, files: 194 });
    expect(handbacks).toEqual([]);
    const windows = Math.ceil((Date.now() - started) / 10_000) + 1;
    expect(stats.byOutcome['200']).toBe(194);
    expect(stats.rateLimited, `429s over ${windows} windows`).toBeLessThanOrEqual(windows);
    expect(requestsPerPage(h).filter((n) => n > 2)).toEqual([]);
    expect(stats.requests - 194).toBe(stats.rateLimited);
  }, 60_000);

  it('cursor style behind 20/1s with IETF RateLimit fields: 60 pages, no page twice, at most one 429 per window', async () => {
    const h = await harness('cursor', { products: 60, windowLimit: { limit: 20, windowMs: 1000, headers: 'ietf' } }, { PRODUCTS_PAGE_SIZE: '1' });
    const started = Date.now();
    const { result } = await untilDone(h, 5);
    const stats = h.api.stats();
    expect(result, JSON.stringify(stats)).toMatchObject({ status: 'committed', records: 60 });
    expect(stats.rateLimited).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 1000) + 1);
    expect(stats.byOutcome['200']).toBe(60);
  });

  it.each(STYLES)('%s style: 5,000 products at 100 a page behind 10/1s complete', async (style) => {
    const h = await harness(style, { products: 5000, windowLimit: { limit: 10, windowMs: 1000, headers: 'x' } }, { PRODUCTS_PAGE_SIZE: '100' });
    // The harness waits in place only up to 500 ms, so a turn further off hands the job back and the next attempt
    // resumes: on a busy machine an attempt may store as few as five pages, so allow up to one run a window.
    const { result, handbacks } = await untilDone(h, 20);
    expect(result, JSON.stringify(h.api.stats())).toMatchObject({ status: 'committed', records: 5000, files: 50 });
    expect(h.api.stats().byOutcome['200'], `every page served once over ${handbacks.length + 1} attempts`).toBe(50);
    // Paced by the headers: beyond the limit a window sees at most the pages already in flight (PRODUCTS_CONCURRENCY, 4; one at a time for cursor and link).
    const inFlight = style === 'offset' || style === 'page' ? 4 : 1;
    expect(h.api.stats().maxRequestsPerWindow, JSON.stringify(h.api.stats())).toBeLessThanOrEqual(10 + inFlight);
  });
});

describe('products source: no silent livelock', () => {
  it('a limiter that never lets anything through fails for good after PRODUCTS_MAX_STALLED_HANDBACKS hand-backs, naming the limit, the pages got and the settings', async () => {
    const h = await harness('offset', { windowLimit: { limit: 0, windowMs: 1000, headers: 'x' } }, { PRODUCTS_MAX_STALLED_HANDBACKS: '3', PRODUCTS_MAX_RETRY_AFTER_MS: '0' });
    const { final, handbacks } = await untilDone(h, 10, false);
    expect(handbacks).toHaveLength(2);
    expect(final).toBeInstanceOf(RateLimitExhaustedError);
    expect((final as Error).message).toMatch(
      /^products snapshot gave up: rate limited with no new page in 3 hand-backs in a row \(PRODUCTS_MAX_STALLED_HANDBACKS=3\); got 0 pages \(0 products\) in 3 attempts over \d+ s; to go on, raise PRODUCTS_MAX_STALLED_HANDBACKS or PRODUCTS_MAX_HANDBACK_MS, or set PRODUCTS_RATE_LIMIT below the API's limit$/,
    );
    expect(h.api.stats().requests, 'one request an attempt').toBe(3);
    expect(await h.staging(), 'failure for good drops the kept staging').toEqual([]);
  });

  it.each([
    ['ten years away', String(10 * 365 * 86_400), /job handed back to the queue for 1000 ms \(clamped to PRODUCTS_MAX_HANDBACK_MS=1000\)/],
    ['negative', '-5', /failed after 1 attempt: HTTP 429 .*\(Retry-After "-5"\); job handed back to the queue for 1000 ms/],
    ['in the past', 'Thu, 01 Jan 2015 00:00:00 GMT', /failed after 1 attempt: HTTP 429 .*\(Retry-After "Thu, 01 Jan 2015 00:00:00 GMT"\); job handed back/],
  ])('a Retry-After %s on every try is clamped or read as no header, counted, and ends in failure for good (issue 12.7)', async (_what, retryAfter, handback) => {
    const h = await harness('offset', { faults: [{ fault: '429', page: 2, retryAfter }] }, { PRODUCTS_MAX_STALLED_HANDBACKS: '2', PRODUCTS_MAX_HANDBACK_MS: '1000', PRODUCTS_PAGE_RETRIES: '0', PRODUCTS_MAX_RETRY_AFTER_MS: '500' });
    const { final, handbacks } = await untilDone(h, 10, false);
    // The first attempt stores pages 1 and 3 (page 3 was on the wire when page 2 met the 429: it lands and is kept).
    // The second stores nothing (1 stalled); the third gives up (2 stalled).
    expect(handbacks.map((e) => e.message)).toEqual([expect.stringMatching(handback), expect.stringMatching(handback)]);
    expect(handbacks.map((e) => e.retryAfterMs)).toEqual([1000, 1000]);
    expect(final).toBeInstanceOf(RateLimitExhaustedError);
    expect((final as Error).message).toMatch(/no new page in 2 hand-backs in a row \(PRODUCTS_MAX_STALLED_HANDBACKS=2\); got 2 of 3 pages \(15 products\) in 3 attempts/);
    expect(h.api.stats().byPage['2'], 'one request of page 2 an attempt').toBe(3);
  });
});
