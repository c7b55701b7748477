import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stagingRoot } from '@recomart/lake';
import { PaginationError, PermanentSourceError, RateLimitedError, SnapshotMismatchError, TransientError } from '@recomart/jobs';
import type { FaultKind, FaultRule, PaginationStyle } from '@recomart/mock-product-api';
import { productsHarness, requestsFor, type ProductsHarness } from './products-harness.js';

const open: ProductsHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

const STYLES: readonly PaginationStyle[] = ['offset', 'page', 'cursor', 'link'];

/** A harness for `style` whose API is reached with that style's configuration. */
async function harness(style: PaginationStyle, env: Record<string, string> = {}): Promise<ProductsHarness> {
  const h = await productsHarness({ pagination: style }, { PRODUCTS_PAGINATION: style, ...env });
  open.push(h);
  return h;
}

/** The URL the source asks for page 2 in each style (pages of 10). */
async function page2Url(h: ProductsHarness, style: PaginationStyle): Promise<string> {
  return (await h.pages())[1]?.url ?? `(no page 2 in ${style})`;
}

/** Only the stall cases get a short timeout: elsewhere a loaded machine must not time out by accident. */
const STALL_TIMEOUT = { PRODUCTS_TIMEOUT_MS: '250' };

/** Faults a retry cures, and what the request log records for a failed attempt. */
const PASSING: readonly { fault: FaultKind; status: number | null; error: RegExp }[] = [
  { fault: '500', status: 500, error: /^HTTP 500 from .*: Internal Server Error$/ },
  { fault: '502', status: 502, error: /^HTTP 502 from .*: Bad Gateway$/ },
  { fault: '503', status: 503, error: /^HTTP 503 from .*: Service Unavailable$/ },
  { fault: '408', status: 408, error: /^HTTP 408 from .*: Request Timeout$/ },
  { fault: 'reset', status: null, error: /^ECONNRESET: socket hang up$/ },
  { fault: 'stall', status: null, error: /^timed out after 250 ms$/ },
  { fault: 'truncate', status: 200, error: /^malformed page from .*: body is not valid JSON \(\d+ bytes\): / },
  { fault: 'html', status: 200, error: /^malformed page from .*: expected a JSON body, got text\/html \(\d+ bytes\)$/ },
  { fault: 'deep-json', status: 200, error: /^malformed page from .*: body nests arrays or objects deeper than 64 levels \(200000 bytes\)$/ },
  { fault: '429', status: 429, error: /^HTTP 429 from .*: Too Many Requests \(Retry-After "0"\)$/ },
];

describe.each(STYLES)('products source, %s pagination, under faults', (style) => {
  it.each(PASSING)('$fault twice on page 2: 3 attempts in the request log, committed; the same content again is unchanged', async ({ fault, status, error }) => {
    const h = await harness(style, fault === 'stall' ? STALL_TIMEOUT : {});
    h.api.setFaults([{ fault, page: 2, times: 2, retryAfter: '0' }]);
    expect(await h.run()).toMatchObject({ status: 'committed', version: 1, records: 25, files: 3 });
    expect(h.api.stats().byPage['2']).toBe(3);
    const log = await requestsFor(h, 2);
    expect(log.map((r) => [r.attempt, r.status])).toEqual([[1, status], [2, status], [3, 200]]);
    for (const r of log.slice(0, 2)) expect(r.error).toMatch(error);
    const warnings = h.logs.filter((l) => l.includes('"page":2') && l.includes('retrying'));
    expect(warnings).toHaveLength(2);
    h.api.setFaults([]);
    expect(await h.run()).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await h.versions()).toEqual([1]);
    expect(await h.staging()).toEqual([]);
  });

  it.each(PASSING.filter((f) => f.fault !== '429'))('$fault on every try of page 2: TransientError after 1 + PRODUCTS_PAGE_RETRIES attempts, nothing new committed', async ({ fault, status, error }) => {
    const h = await harness(style, { PRODUCTS_PAGE_RETRIES: '2', ...(fault === 'stall' ? STALL_TIMEOUT : {}) });
    expect(await h.run()).toMatchObject({ status: 'committed', version: 1 });
    const url = await page2Url(h, style);
    h.api.resetStats();
    h.api.setFaults([{ fault, page: 2 }]);
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    const message = (err as Error).message;
    expect(message.startsWith(`products page 2 failed after 3 attempts: `)).toBe(true);
    expect(message).toContain(status === null ? `request to ${url} failed: ` : url);
    expect(message.replace(/^products page 2 failed after 3 attempts: (request to \S+ failed: )?/, '')).toMatch(error);
    expect(h.api.stats().byPage['2']).toBe(3);
    expect(await h.versions()).toEqual([1]);
    expect((await h.latest())?.version).toBe(1);
    expect(await h.staging()).toEqual([]);
  });

  it('wrong types in a field: committed as received, counted per field and rejected', async () => {
    const h = await harness(style);
    h.api.setFaults([{ fault: 'wrong-types', page: 2 }]);
    expect(await h.run()).toMatchObject({ status: 'committed', records: 25, rejected: 10 });
    const validation = (await h.latest())?.validation as { fields: Record<string, number>; samples: Record<string, string[]> };
    expect(validation.fields).toMatchObject({ nonNumericPrice: 10, nonNumericPopularityScore: 10, missingPrice: 0, unknownCategory: 0 });
    expect(validation.samples.nonNumericPrice).toEqual(['P0000011', 'P0000012', 'P0000013', 'P0000014', 'P0000015']);
    expect((await h.pages(1))[1]?.bytes.toString()).toMatch(/"price":"\d+\.\d\d EUR"/);
  });

  it('a page that repeats forever: PaginationError, nothing committed', async () => {
    const h = await harness(style);
    h.api.setFaults([{ fault: 'repeat', page: 2 }]);
    const expected: Record<PaginationStyle, RegExp> = {
      offset: /^products page 2 repeats the products of page 1 \(the API is not advancing\); snapshot aborted$/,
      page: /^products page 2 repeats the products of page 1 \(the API is not advancing\); snapshot aborted$/,
      cursor: /^products page 2 gives cursor "[\w-]+" again \(the API is not advancing\); snapshot aborted$/,
      link: /^products page 2 links to http:\/\/127\.0\.0\.1:\d+\/products\?per_page=10&page=2 again \(the API is not advancing\); snapshot aborted$/,
    };
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PaginationError);
    expect((err as Error).message).toMatch(expected[style]);
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });

  it('429 with a long Retry-After: one request, RateLimitedError with the capped wait, nothing committed', async () => {
    const h = await harness(style);
    h.api.setFaults([{ fault: '429', page: 2, retryAfter: '120' }]);
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(5000);
    expect((err as Error).message).toMatch(/^products page 2: HTTP 429 from \S+: Too Many Requests \(Retry-After "120"\); job handed back to the queue for 5000 ms \(clamped to PRODUCTS_MAX_HANDBACK_MS=5000\); (1 page|2 pages) kept, the next attempt resumes at page 2$/);
    expect(h.api.stats().byPage['2']).toBe(1);
    expect(await h.versions()).toEqual([]);
    // Page 1 in the first segment, and in the offset and page styles page 3 too, loose (it was on the wire when page 2
    // met the 429: it lands and is kept, but cannot go into a segment before page 2).
    const kept = (await h.staging()).filter((e) => /^kept-[0-9a-f]{32}\/./.test(e)).map((e) => e.slice(38)).sort();
    const loose = style === 'offset' || style === 'page' ? ['pages/loose-000003.json'] : [];
    expect(kept, 'the pages got are kept for the next attempt').toEqual(['_kept.json', '_requests.ndjson', 'pages', 'pages/index.ndjson', ...loose, 'pages/segment-0001.bin']);
    const keptDir = (await h.staging()).find((e) => /^kept-[0-9a-f]{32}$/.test(e)) ?? '';
    const index = await readFile(path.join(stagingRoot(h.dataDir), keptDir, 'pages', 'index.ndjson'), 'utf8');
    expect(index.trim().split('\n').map((l) => (JSON.parse(l) as { page: number }).page)).toEqual([1]);
  });
});

describe('products source: 429 and Retry-After', () => {
  it('an HTTP-date Retry-After beyond the inline wait hands the job back with that wait', async () => {
    const h = await harness('offset', { PRODUCTS_MAX_RETRY_AFTER_MS: '0' });
    h.api.setFaults([{ fault: '429', page: 1, retryAfter: new Date(Date.now() + 3000).toUTCString() }]);
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    const wait = (err as RateLimitedError).retryAfterMs ?? -1;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(3000);
  });

  it('an HTTP date in the past is retried at once', async () => {
    const h = await harness('offset');
    h.api.setFaults([{ fault: '429', page: 1, times: 1, retryAfter: 'Thu, 01 Jan 2015 00:00:00 GMT' }]);
    expect(await h.run()).toMatchObject({ status: 'committed', records: 25 });
    expect(await requestsFor(h, 1)).toEqual([
      { attempt: 1, status: 429, error: expect.stringMatching(/^HTTP 429 from .*Retry-After "Thu, 01 Jan 2015 00:00:00 GMT"/) as unknown as string },
      { attempt: 2, status: 200 },
    ]);
  });

  it('429 on every try with short waits: the budget runs out and the job is handed back, not failed', async () => {
    const h = await harness('offset', { PRODUCTS_PAGE_RETRIES: '2' });
    h.api.setFaults([{ fault: '429', page: 1, retryAfter: '0' }]);
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(1000);
    expect((err as Error).message).toMatch(/^products page 1 failed after 3 attempts: HTTP 429 from .*; job handed back to the queue for 1000 ms; 0 pages kept, the next attempt resumes at page 1$/);
    expect(h.api.stats().byPage['1']).toBe(3);
  });

  it('a --rate-limit API is honoured: the snapshot completes and the API never served more than its budget a second', async () => {
    // 7 pages: after page 1, six in flight at once, more than two windows of 3 can hold, so some must get 429.
    const limited = await productsHarness({ rateLimitPerSecond: 3, products: 70 }, { PRODUCTS_PAGE_SIZE: '10', PRODUCTS_CONCURRENCY: '8', PRODUCTS_MAX_RETRY_AFTER_MS: '2000', PRODUCTS_PAGE_RETRIES: '5' });
    open.push(limited);
    expect(await limited.run()).toMatchObject({ status: 'committed', records: 70, files: 7 });
    const stats = limited.api.stats();
    expect(stats.byOutcome['429']).toBeGreaterThan(0);
    expect(stats.maxServedPerSecond).toBeLessThanOrEqual(3 + 1);
  });
});

describe('products source: failures that are not retried', () => {
  it.each([
    ['404', 'catalogue not found', 'products page 1: HTTP 404 from URL: catalogue not found'],
    ['403', undefined, 'products page 1: HTTP 403 from URL: Forbidden'],
    ['400', 'limit too large', 'products page 1: HTTP 400 from URL: limit too large'],
  ] as const)('HTTP %s: PermanentSourceError after one request, with the API\'s message', async (fault, apiMessage, message) => {
    const h = await harness('offset');
    const rule: FaultRule = { fault, page: 1 };
    if (apiMessage) rule.message = apiMessage;
    h.api.setFaults([rule]);
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PermanentSourceError);
    expect((err as Error).message).toBe(message.replace('URL', `${h.api.url}?offset=0&limit=10`));
    expect(h.api.stats().requests).toBe(1);
    expect(await h.versions()).toEqual([]);
  });

  it('a permanent error on page 3 while pages are in flight: nothing committed, staging removed', async () => {
    const big = await productsHarness({ products: 200, faults: [{ fault: '404', page: 7 }] }, { PRODUCTS_CONCURRENCY: '4' });
    open.push(big);
    await expect(big.run()).rejects.toBeInstanceOf(PermanentSourceError);
    expect(await big.versions()).toEqual([]);
    expect(await big.staging()).toEqual([]);
  });
});

describe('products source: the count must match the API total', () => {
  it.each(['offset', 'page', 'link'] as const)('%s: a product missing mid-snapshot fails with SnapshotMismatchError, nothing committed, previous version current', async (style) => {
    const h = await harness(style);
    expect(await h.run()).toMatchObject({ status: 'committed', version: 1 });
    h.api.setFaults([{ fault: 'short-page', page: 2 }]);
    await expect(h.run()).rejects.toThrow(new SnapshotMismatchError("the snapshot has 24 products but the API's total is 25; not committed"));
    expect(await h.versions()).toEqual([1]);
    expect((await h.latest())?.records).toBe(25);
  });
});

describe('products source: random faults', () => {
  it('--fail-ratio 0.3 with enough retries still gives the clean snapshot (same content: unchanged)', async () => {
    const clean = await harness('offset');
    expect(await clean.run()).toMatchObject({ status: 'committed', version: 1 });
    await clean.api.close();
    const flaky = await productsHarness({ failRatio: 0.3, products: 25 }, { PRODUCTS_PAGE_RETRIES: '12' });
    open.push(flaky);
    expect(await clean.run({ env: { PRODUCTS_API_URL: flaky.api.url } })).toMatchObject({ status: 'unchanged', version: 1, records: 25 });
    const outcomes = flaky.api.stats().byOutcome;
    expect((outcomes['500'] ?? 0) + (outcomes['502'] ?? 0) + (outcomes['503'] ?? 0)).toBeGreaterThan(0);
  });
});
