import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockProductApi, type FaultRule, type MockApiHandle } from '@recomart/mock-product-api';
import type { AuditEvent } from '@recomart/logging';
import { readSnapshotPages, type Manifest, type SnapshotPage } from '@recomart/lake';
import { readRequestLog, type RequestLogEntry } from '@recomart/sources';
import type { IngestJobResult } from '@recomart/queue';
import { FaultStand } from './fault-stand.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';
import { startStallProxy, type StallProxy } from './stall-proxy.js';

/** Products 30, pages of 10: a snapshot is 3 pages, walked by cursor (so a repeating cursor can be served). */
const WORKER_ENV: Record<string, string> = {
  PRODUCTS_PAGINATION: 'cursor',
  PRODUCTS_PAGE_SIZE: '10',
  PRODUCTS_PAGE_RETRIES: '2',
  PRODUCTS_RETRY_BASE_MS: '10',
  PRODUCTS_TIMEOUT_MS: '1000',
  PRODUCTS_MAX_RETRY_AFTER_MS: '1000',
  PRODUCTS_MAX_HANDBACK_MS: '1500',
  PRODUCTS_MAX_STALLED_HANDBACKS: '2',
  JOB_ATTEMPTS: '4',
};

interface CaseOutcome {
  jobId: string;
  result?: IngestJobResult;
  failedReason?: string;
  attemptsMade: number;
  /** The job's audit events as `type` (retry-scheduled with `:rateLimited`). */
  trail: string[];
  events: AuditEvent[];
  manifest: Manifest | undefined;
  /** The committed version's request log (`_requests.ndjson`). */
  requests: RequestLogEntry[];
  /** The request log of page `n` in the committed version, as `status` or `error`. */
  page(n: number): Array<number | string | null>;
}

describe('fault 7: the product API misbehaves under a real worker process', () => {
  let s: FaultStand;
  let api: MockApiHandle;
  let proxy: StallProxy;
  let day = 0;

  beforeAll(async () => {
    api = await startMockProductApi({ port: 0, products: 30, seed: 'faults', pagination: 'cursor' });
    proxy = await startStallProxy(api.url);
    s = new FaultStand('f-products', { ...WORKER_ENV, PRODUCTS_API_URL: proxy.url });
    await s.spawn(['--sources', 'products']);
    await s.queueEvents('products');
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await api?.close();
  });

  /** Ingests a new date's snapshot with `faults` scripted on the API; checks the lake with the reconciler. */
  async function ingest(faults: readonly FaultRule[], prepare?: () => void): Promise<CaseOutcome> {
    day += 1;
    const date = `2026-08-${String(day).padStart(2, '0')}`;
    const jobId = `products__${date}`;
    const before = await snapshotLake(s.dataDir);
    api.setFaults(faults);
    api.resetStats();
    prepare?.();
    const job = await s.queue('products').add('ingest', { source: 'products', date, trigger: 'manual' }, { jobId });
    let result: IngestJobResult | undefined;
    let failedReason: string | undefined;
    try {
      result = (await job.waitUntilFinished(await s.queueEvents('products'), 60_000)) as IngestJobResult;
    } catch (err) {
      failedReason = (err as Error).message;
    }
    api.setFaults([]);
    await s.audit.catchUp();
    const events = s.audit.of(jobId);
    const done = await s.queue('products').getJob(jobId);
    const manifest = await s.lake.readManifest('products', date);
    const report = await reconcile({
      dataDir: s.dataDir,
      expected: result ? [{ source: 'products', date }] : [],
      before,
      audit: { redis: s.redis, prefix: s.prefix, jobIds: [jobId] },
    });
    expect(report.problems).toEqual([]);
    expect(report.staging).toEqual([]);
    const requests: RequestLogEntry[] = manifest === undefined ? [] : await readRequestLog(s.lake, 'products', date, manifest.version);
    return {
      jobId,
      ...(result ? { result } : {}),
      ...(failedReason !== undefined ? { failedReason } : {}),
      attemptsMade: done?.attemptsMade ?? -1,
      trail: events.map((e) => (e.type === 'retry-scheduled' && e.rateLimited === true ? 'retry-scheduled:rateLimited' : e.type)),
      events,
      manifest,
      requests,
      page: (n) => requests.filter((r) => r.page === n).map((r) => (r.status === 200 ? 200 : (r.status ?? r.error ?? null))),
    };
  }

  it('a 5xx burst longer than the page retry budget: the attempt fails as retryable, the next attempt commits', async () => {
    const o = await ingest([{ fault: '503', page: 2, times: 4 }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 30, files: 3 });
    expect(o.trail).toEqual(['started', 'failed', 'retry-scheduled', 'started', 'committed']);
    expect(o.events[1]).toMatchObject({ final: false, errorClass: 'TransientError' });
    expect(String(o.events[1]?.error)).toMatch(/^products page 2 failed after 3 attempts: HTTP 503 from \S+: Service Unavailable$/);
    expect(o.page(2)).toEqual([503, 200]);
    expect(api.stats().byOutcome['503']).toBe(4);
  });

  it('connection resets: retried within the attempt, committed', async () => {
    const o = await ingest([{ fault: 'reset', page: 1, times: 2 }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 30 });
    expect(o.trail).toEqual(['started', 'committed']);
    expect(o.page(1)).toEqual(['ECONNRESET: socket hang up', 'ECONNRESET: socket hang up', 200]);
    expect(api.stats().byOutcome.reset).toBe(2);
  });

  it('answers that stall in the middle of the body: timed out, retried, committed', async () => {
    const o = await ingest([], () => proxy.stallNext(2, (u) => u.searchParams.has('cursor')));
    expect(proxy.stalled()).toBe(2);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 30 });
    expect(o.trail).toEqual(['started', 'committed']);
    expect(o.page(2)).toEqual(['timed out after 1000 ms', 'timed out after 1000 ms', 200]);
  });

  it('truncated JSON: the malformed body is retried, committed', async () => {
    const o = await ingest([{ fault: 'truncate', page: 3, times: 2 }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 30 });
    expect(o.trail).toEqual(['started', 'committed']);
    expect(o.page(3)).toEqual([200, 200, 200]);
    const pages: SnapshotPage[] = [];
    for await (const page of readSnapshotPages(s.lake, 'products', o.result?.date ?? '', 1)) pages.push(page);
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(() => JSON.parse((pages[2] as SnapshotPage).bytes.toString('utf8')) as unknown).not.toThrow();
  });

  it('429 with Retry-After: 1 (within PRODUCTS_MAX_RETRY_AFTER_MS): waited out inside the attempt, committed', async () => {
    const o = await ingest([{ fault: '429', page: 1, times: 1, retryAfter: '1' }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1 });
    expect(o.trail).toEqual(['started', 'committed']);
    expect(o.page(1)).toEqual([429, 200]);
  });

  it('429 with an HTTP-date Retry-After beyond the inline wait: handed back to the queue with that wait (capped), then committed', async () => {
    const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000).toUTCString();
    const o = await ingest([{ fault: '429', page: 2, times: 1, retryAfter: at }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1 });
    expect(o.trail).toEqual(['started', 'retry-scheduled:rateLimited', 'started', 'committed']);
    const delay = Number(o.events[1]?.delayMs);
    expect(delay).toBeGreaterThan(1000);
    expect(delay).toBeLessThanOrEqual(1500);
    expect(String(o.events[1]?.error)).toContain(`(Retry-After ${JSON.stringify(at)}); job handed back to the queue for ${delay} ms`);
  });

  it('429 with Retry-After: 86400: capped at PRODUCTS_MAX_HANDBACK_MS (1500 ms) and turned into a delayed retry, then committed', async () => {
    const o = await ingest([{ fault: '429', page: 1, times: 1, retryAfter: '86400' }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1 });
    expect(o.trail).toEqual(['started', 'retry-scheduled:rateLimited', 'started', 'committed']);
    expect(o.events[1]).toMatchObject({ delayMs: 1500, rateLimited: true, errorClass: 'RateLimitedError' });
    expect(String(o.events[1]?.error)).toMatch(/^products page 1: HTTP 429 from \S+: Too Many Requests \(Retry-After "86400"\); job handed back to the queue for 1500 ms \(clamped to PRODUCTS_MAX_HANDBACK_MS=1500\); 0 pages kept, the next attempt resumes at page 1$/);
  });

  it('a 429 on page 2 whose Retry-After is negative, every time: no header (backoff), handed back, counted, then failed for good naming the limit (issue 12.7)', async () => {
    const o = await ingest([{ fault: '429', page: 2, retryAfter: '-5' }]);
    expect(o.result).toBeUndefined();
    // Attempt 1 stores page 1 (progress); attempt 2 stores nothing (1 stalled); attempt 3 gives up (2 stalled).
    expect(o.trail).toEqual(['started', 'retry-scheduled:rateLimited', 'started', 'retry-scheduled:rateLimited', 'started', 'failed']);
    expect(String(o.events[1]?.error)).toMatch(/^products page 2 failed after 3 attempts: HTTP 429 from \S+: Too Many Requests \(Retry-After "-5"\); job handed back to the queue for 1000 ms; 1 page kept, the next attempt resumes at page 2$/);
    expect(o.events.at(-1)).toMatchObject({ final: true, errorClass: 'RateLimitExhaustedError' });
    expect(o.failedReason).toMatch(/^products snapshot gave up: rate limited with no new page in 2 hand-backs in a row \(PRODUCTS_MAX_STALLED_HANDBACKS=2\); got 1 pages? \(10 products\) in 3 attempts over \d+ s; to go on, raise /);
    expect(o.manifest).toBeUndefined();
  });

  it('JSON nested 100,000 levels deep on page 2: a malformed page named by its URL, retried within the attempt, committed (issue 12.13)', async () => {
    const o = await ingest([{ fault: 'deep-json', page: 2, times: 2 }]);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 30 });
    expect(o.trail).toEqual(['started', 'committed']);
    expect(o.page(2)).toEqual([200, 200, 200]);
    const log = o.requests.filter((r) => r.page === 2 && r.error !== undefined);
    expect(log.map((r) => r.error)).toEqual([0, 1].map(() => expect.stringMatching(/^malformed page from http:\S+cursor=\S+: body nests arrays or objects deeper than 64 levels \(200000 bytes\)$/)));
  });

  it('a cursor that repeats: failed for good on the first attempt with the reason, nothing committed', async () => {
    const o = await ingest([{ fault: 'repeat', page: 2 }]);
    expect(o.result).toBeUndefined();
    expect(o.failedReason).toMatch(/^products page 2 gives cursor "[\w-]+" again \(the API is not advancing\); snapshot aborted$/);
    expect(o.attemptsMade).toBe(1);
    expect(o.trail).toEqual(['started', 'failed']);
    expect(o.events[1]).toMatchObject({ final: true, errorClass: 'PaginationError' });
    expect(o.manifest).toBeUndefined();
  });

  it('the same catalogue again for a committed date: "unchanged", no new version', async () => {
    const date = '2026-08-01';
    const job = await s.queue('products').add('ingest', { source: 'products', date, trigger: 'manual' }, { jobId: `products__${date}__ragain` });
    expect(await job.waitUntilFinished(await s.queueEvents('products'), 60_000)).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await s.lake.listVersions('products', date)).toEqual([1]);
  });
});
