import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake, readSnapshotPages } from '@recomart/lake';
import { productApiStand, type ProductApiStand } from '../helpers/product-api-stand.js';
import { runRecomart } from '../helpers/run-cli.js';

const LIMIT = 20;
const CONCURRENCY = 2;
const WORKERS = 2;

// Two worker processes snapshot two dates of a catalogue whose API admits 20
// requests per 1 s window and sends no rate-limit headers, so nothing paces
// them: each 429 hands the job back to the queue's rate limiter (no wait is
// held in place) and the next attempt resumes from the first page it lacks.
describe('two workers behind one fixed-window API limit', () => {
  let stand: ProductApiStand;

  beforeAll(async () => {
    stand = await productApiStand('ratewin', { products: 60, seed: 'windows', windowLimit: { limit: LIMIT, windowMs: 1000, headers: 'none' } }, {
      PRODUCTS_PAGE_SIZE: '1',
      PRODUCTS_CONCURRENCY: String(CONCURRENCY),
      PRODUCTS_MAX_RETRY_AFTER_MS: '0',
      PRODUCTS_MAX_STALLED_HANDBACKS: '20',
      JOB_BACKOFF_MS: '200',
    });
  });
  afterAll(async () => {
    await stand?.close();
  });

  it('both dates commit every page; the API never sees more than its limit plus the requests in flight in a window; --wait says where each resumes', async () => {
    const { api, t } = stand;
    await stand.startWorkers(WORKERS);
    api.resetStats();
    const r = await runRecomart(['backfill', '--source', 'products', '--from', '2026-02-01', '--to', '2026-02-02', '--wait'], t.env, { timeoutMs: 120_000 });
    const stats = api.stats();
    expect(r.code, `${r.stderr}\n${JSON.stringify(stats)}`).toBe(0);
    const lake = openLake({ dataDir: t.dataDir });
    for (const d of ['2026-02-01', '2026-02-02']) {
      const m = await lake.readManifest('products', d);
      expect(m?.records, d).toBe(60);
      expect(m?.validation.pages, d).toBe(60);
      const pages: number[] = [];
      for await (const page of readSnapshotPages(lake, 'products', d, m?.version ?? 0)) pages.push(page.page);
      expect(pages, `${d}: every page once, in order, across the attempts`).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(m?.files.some((f) => f.path.includes('loose')), 'no loose page committed').toBe(false);
    }
    expect(stats.byOutcome['200'], 'every page served once per date').toBe(120);
    expect(stats.rateLimited, 'the limit was met').toBeGreaterThan(0);
    expect(stats.maxRequestsPerWindow, 'beyond the limit only the requests in flight when the 429 came').toBeLessThanOrEqual(LIMIT + WORKERS * CONCURRENCY);
    expect(r.stderr).toMatch(/products__2026-02-0[12]: rate limited, resuming at page \d+ in \d+ s/);
  }, 150_000);
});
