import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@recomart/config';
import { RateLimitedError } from '@recomart/jobs';
import { PROVENANCE_FILES, type Manifest } from '@recomart/lake';
import type { PaginationStyle } from '@recomart/mock-product-api';
import { recountVersion } from '../src/recount.js';
import { productsHarness, type ProductsHarness } from './products-harness.js';

const open: ProductsHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** 25 products, 2 a page (13 pages of ~300 bytes), segments closed past 1000 bytes: several segments. */
const SMALL_SEGMENTS = { PRODUCTS_PAGE_SIZE: '2', PRODUCTS_SEGMENT_BYTES: '1000' };

async function harness(style: PaginationStyle, env: Record<string, string> = {}): Promise<ProductsHarness> {
  const h = await productsHarness({ pagination: style }, { PRODUCTS_PAGINATION: style, ...SMALL_SEGMENTS, ...env });
  open.push(h);
  return h;
}

/** The version's content: every file but the request log, with its hash. */
function content(m: Manifest | undefined): unknown {
  return m?.files.filter((f) => !PROVENANCE_FILES.has(f.path)).map((f) => [f.path, f.sha256, f.bytes]);
}

describe('products snapshot in segment files', () => {
  it.each(['offset', 'link'] as const)('%s: 13 pages across several segments; the reader gives each page back as the API served it; verify and --deep pass; a repeat is unchanged', async (style) => {
    const h = await harness(style);
    expect(await h.run()).toMatchObject({ status: 'committed', version: 1, records: 25, files: 13 });
    const manifest = await h.latest();
    const paths = manifest?.files.map((f) => f.path) ?? [];
    expect(paths.slice(0, 2)).toEqual(['_requests.ndjson', 'pages/index.ndjson']);
    const segments = manifest?.files.filter((f) => f.path.startsWith('pages/segment-')) ?? [];
    expect(segments.length, paths.join(' ')).toBeGreaterThanOrEqual(3);
    expect(segments.map((f) => f.path)).toEqual(segments.map((_, i) => `pages/segment-${String(i + 1).padStart(4, '0')}.bin`));
    expect(segments.slice(0, -1).every((f) => f.bytes >= 1000), 'closed at the first page boundary past the limit').toBe(true);

    const pages = await h.pages();
    expect(pages.map((p) => p.page)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    for (const p of pages) {
      const served = Buffer.from(await (await fetch(p.url)).arrayBuffer());
      expect(p.bytes.equals(served), `page ${p.page} from ${p.url}`).toBe(true);
    }
    expect(pages.reduce((n, p) => n + p.bytes.byteLength, 0)).toBe(segments.reduce((n, f) => n + f.bytes, 0));

    expect(await h.lake.verify()).toMatchObject({ ok: true, problems: [] });
    const config = loadConfig({ DATA_DIR: h.dataDir, PRODUCTS_API_URL: h.api.url, PRODUCTS_PAGINATION: style, ...SMALL_SEGMENTS });
    expect(manifest && (await recountVersion(h.lake, manifest, config))).toEqual([]);

    expect(await h.run()).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await h.staging()).toEqual([]);
  });

  it('a hand-back keeps the pages fetched after the failed one loose; the next attempt folds them into the segments, and the version equals an uninterrupted one', async () => {
    const h = await harness('offset', { PRODUCTS_CONCURRENCY: '4', PRODUCTS_PAGE_RETRIES: '0' });
    h.api.setFaults([{ fault: '429', page: 6, times: 1, retryAfter: '120' }]);
    const first = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(first).toBeInstanceOf(RateLimitedError);
    expect((first as RateLimitedError).resumeAtPage).toBe(6);
    const kept = (await h.staging()).filter((e) => /^kept-[0-9a-f]{32}\/pages\//.test(e)).map((e) => e.slice(38)).sort();
    const loose = kept.filter((e) => e.startsWith('pages/loose-'));
    expect(loose.length, `kept: ${kept.join(' ')}`).toBeGreaterThan(0);
    expect(loose.every((e) => Number(/loose-(\d+)/.exec(e)?.[1]) > 6)).toBe(true);
    expect(kept).toContain('pages/segment-0001.bin');

    expect(await h.run()).toMatchObject({ status: 'committed', version: 1, records: 25, files: 13 });
    expect(await h.staging(), 'no loose page or kept staging left').toEqual([]);
    const manifest = await h.latest();
    expect(manifest?.files.some((f) => f.path.includes('loose'))).toBe(false);
    const provenance = manifest?.provenance as { attempts: { pages: number; firstPage: number | null; lastPage: number | null }[]; requests: number; statuses: Record<string, number>; rateLimited: number };
    expect(provenance.attempts.map((a) => a.firstPage)).toEqual([1, 6]);
    expect(provenance.attempts.reduce((n, a) => n + a.pages, 0)).toBe(13);
    expect(provenance).toMatchObject({ requests: 14, rateLimited: 1, statuses: { '200': 13, '429': 1 } });
    expect(h.api.stats().byOutcome['200'], 'no page fetched twice').toBe(13);
    expect((await h.pages()).map((p) => p.page)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect((await h.lake.verify()).ok).toBe(true);

    const uninterrupted = await harness('offset', { PRODUCTS_CONCURRENCY: '4' });
    await uninterrupted.run();
    expect(content(manifest), 'byte-identical to a snapshot fetched in one go').toEqual(content(await uninterrupted.latest()));
    expect(await h.run()).toMatchObject({ status: 'unchanged', version: 1 });
  });
});
