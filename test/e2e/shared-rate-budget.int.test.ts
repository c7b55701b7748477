import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake } from '@recomart/lake';
import { productApiStand, type ProductApiStand } from '../helpers/product-api-stand.js';
import { runRecomart } from '../helpers/run-cli.js';

// Three worker processes snapshot the catalogue of an API that allows 20
// requests a second; PRODUCTS_RATE_LIMIT=20 makes them share that budget
// through Redis instead of each spending it.
describe('three workers share one product API rate budget', () => {
  let stand: ProductApiStand;

  beforeAll(async () => {
    stand = await productApiStand('budget', { products: 1500, seed: 'budget', rateLimitPerSecond: 20 }, { PRODUCTS_PAGE_SIZE: '100', PRODUCTS_CONCURRENCY: '4', PRODUCTS_RATE_LIMIT: '20', JOB_BACKOFF_MS: '200' });
  });
  afterAll(async () => {
    await stand?.close();
  });

  it('completes every snapshot while the API sees no more than its budget', async () => {
    const { api, t } = stand;
    await stand.startWorkers(3);
    api.resetStats();
    const r = await runRecomart(['backfill', '--source', 'products', '--from', '2026-02-01', '--to', '2026-02-03', '--wait'], t.env, { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const lake = openLake({ dataDir: t.dataDir });
    for (const d of ['2026-02-01', '2026-02-02', '2026-02-03']) {
      const m = await lake.readManifest('products', d);
      expect(m?.records).toBe(1500);
    }
    // All three jobs ran at the same time on different workers…
    const pids = new Set<number>();
    for (const d of ['2026-02-01', '2026-02-02', '2026-02-03']) pids.add((await lake.readManifest('products', d))?.worker.pid ?? 0);
    expect(pids.size).toBeGreaterThan(1);
    // …and together stayed within 20 requests a second (one of margin for the clocks' edges).
    const stats = api.stats();
    expect(stats.requests).toBeGreaterThanOrEqual(45);
    expect(stats.maxRequestsPerSecond).toBeLessThanOrEqual(21);
    expect(stats.byOutcome['429'] ?? 0).toBeLessThanOrEqual(2);
  });
});
