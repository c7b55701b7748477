import { afterEach, describe, expect, it } from 'vitest';
import { PaginationError, TransientError } from '@recomart/jobs';
import type { PaginationStyle } from '@recomart/mock-product-api';
import { productsHarness, requestsFor, type ProductsHarness } from './products-harness.js';

const open: ProductsHarness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

async function harness(...args: Parameters<typeof productsHarness>): Promise<ProductsHarness> {
  const h = await productsHarness(...args);
  open.push(h);
  return h;
}

const STYLES: readonly PaginationStyle[] = ['offset', 'page', 'cursor', 'link'];

describe('products source: a full snapshot in each pagination style', () => {
  it.each(STYLES)('%s: every page stored as received, records = products, then identical content is unchanged', async (style) => {
    const h = await harness({ pagination: style }, { PRODUCTS_PAGINATION: style });
    const first = await h.run();
    expect(first).toMatchObject({ status: 'committed', version: 1, records: 25, rejected: 0, files: 3 });
    const manifest = await h.latest();
    expect(manifest?.records).toBe(25);
    expect(manifest?.files.map((f) => f.path)).toEqual(['_requests.ndjson', 'pages/index.ndjson', 'pages/segment-0001.bin']);
    // The stored page is the API's body byte for byte.
    const pages = await h.pages(1);
    expect(pages.map((p) => [p.page, p.status])).toEqual([[1, 200], [2, 200], [3, 200]]);
    const fresh = Buffer.from(await (await fetch(pages[1]?.url ?? '')).arrayBuffer());
    expect(pages[1]?.bytes.equals(fresh)).toBe(true);
    expect(manifest?.validation).toMatchObject({ products: 25, rejected: 0, pages: 3 });
    expect((manifest?.validation.fields as Record<string, number>).missingBrand).toBe(
      pages
        .map((p) => JSON.parse(p.bytes.toString()) as unknown)
        .flatMap((b) => (Array.isArray(b) ? b : (b as { items: unknown[] }).items) as { brand: string | null }[])
        .filter((p) => p.brand === null).length,
    );
    expect(await requestsFor(h, 2)).toEqual([{ attempt: 1, status: 200 }]);

    const second = await h.run();
    expect(second).toMatchObject({ status: 'unchanged', version: 1, records: 25 });
    expect(await h.versions()).toEqual([1]);
    expect(await h.staging()).toEqual([]);
  });

  it('reports progress in pages, rows and bytes', async () => {
    const h = await harness();
    const result = await h.run();
    const last = h.progress.at(-1);
    expect(last).toMatchObject({ pages: 3, rows: 25, bytes: result.bytes });
    expect(h.progress.map((p) => p.pages)).toEqual([1, 2, 3]);
  });

  it('a new catalogue commits a new version; the old one stays readable', async () => {
    const h = await harness({ seed: 'a' });
    await h.run();
    await h.api.close();
    const h2 = await harness({ seed: 'b' });
    const result = await h.run({ env: { PRODUCTS_API_URL: h2.api.url } });
    expect(result).toMatchObject({ status: 'committed', version: 2 });
    expect(await h.versions()).toEqual([1, 2]);
  });

  it('an empty catalogue commits one empty page and zero records', async () => {
    const h = await harness({ products: 0 });
    expect(await h.run()).toMatchObject({ status: 'committed', records: 0, files: 1 });
  });

  it('a catalogue of exactly whole pages needs no trailing empty page', async () => {
    const h = await harness({ products: 30 });
    expect(await h.run()).toMatchObject({ records: 30, files: 3 });
    expect(h.api.stats().requests).toBe(3);
  });
});

describe('products source: other APIs by configuration alone', () => {
  it('skip/limit paging with items under "products" (PRODUCTS_OFFSET_PARAM=skip, PRODUCTS_ITEMS_FIELD=products)', async () => {
    const h = await harness({ params: { offset: 'skip' }, itemsField: 'products' }, { PRODUCTS_OFFSET_PARAM: 'skip', PRODUCTS_ITEMS_FIELD: 'products' });
    const result = await h.run();
    expect(result).toMatchObject({ status: 'committed', records: 25, rejected: 0, files: 3 });
    const origins = (await h.pages()).map((p) => new URL(p.url).search);
    expect(origins).toEqual(['?skip=0&limit=10', '?skip=10&limit=10', '?skip=20&limit=10']);
  });

  it('an offset API that states no total is paged one page after another until a short page', async () => {
    const h = await harness({ products: 30, totalField: 'count' });
    expect(await h.run()).toMatchObject({ status: 'committed', records: 30, files: 4 });
    expect(h.api.stats().byPage).toEqual({ '1': 1, '2': 1, '3': 1, '4': 1 });
    expect((await h.latest())?.validation).toMatchObject({ apiTotal: null, pages: 4 });
  });

  it('without that configuration the same API fails with a clear reason', async () => {
    const h = await harness({ params: { offset: 'skip' }, itemsField: 'products' }, { PRODUCTS_PAGE_RETRIES: '0' });
    await expect(h.run()).rejects.toThrow(/products page 1 failed after 1 attempt: malformed page from .*: body is neither an array nor has an array at "items"/);
    expect(await h.versions()).toEqual([]);
  });

  it('PRODUCTS_FIELD_MAP reads another API\'s field names', async () => {
    const rename = { product_id: 'id', popularity_score: 'rating' };
    const mapped = await harness({ rename }, { PRODUCTS_FIELD_MAP: 'product_id=id,popularity_score=rating' });
    const result = await mapped.run();
    expect(result).toMatchObject({ records: 25, rejected: 0 });
    const fields = (await mapped.latest())?.validation.fields as Record<string, number>;
    expect(fields.missingProductId).toBe(0);
    expect(fields.missingPopularityScore).toBe(0);
    // Unmapped, every product lacks an id: counted and rejected, still stored as received.
    const unmapped = await harness({ rename });
    expect(await unmapped.run()).toMatchObject({ status: 'committed', records: 25, rejected: 25 });
    expect(((await unmapped.latest())?.validation.fields as Record<string, number>).missingProductId).toBe(25);
  });
});

describe('products source: the API token', () => {
  const TOKEN = 'tok-9f8e7d6c5b4a';

  it('is sent as a bearer token and never appears in logs, the manifest or stored files', async () => {
    const h = await harness({ token: TOKEN, faults: [{ fault: '503', page: 2, times: 1 }] }, { PRODUCTS_API_TOKEN: TOKEN });
    expect(await h.run()).toMatchObject({ status: 'committed', records: 25 });
    const manifest = await h.latest();
    expect(JSON.stringify(manifest)).not.toContain(TOKEN);
    expect(h.logs.join('\n')).not.toContain(TOKEN);
    expect(h.logs.some((l) => l.includes('retrying'))).toBe(true);
    for (const f of manifest?.files ?? []) expect((await h.readPage(1, f.path)).toString()).not.toContain(TOKEN);
  });

  it('a wrong token fails for good at once with the status and the API\'s message, token not shown', async () => {
    const h = await harness({ token: TOKEN }, { PRODUCTS_API_TOKEN: 'wrong-token-1234' });
    const err = await h.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe('PermanentSourceError');
    expect((err as Error).message).toBe(`products page 1: HTTP 401 from ${h.api.url}?offset=0&limit=10: missing or invalid bearer token`);
    expect(h.api.stats().requests).toBe(1);
    expect(h.logs.join('\n')).not.toContain('wrong-token-1234');
    expect(await h.versions()).toEqual([]);
  });

  it('credentials in PRODUCTS_API_URL are kept out of origins and the request log', async () => {
    const h = await harness({}, {});
    const url = new URL(h.api.url);
    url.username = 'svc';
    url.password = 'pa55word-xyz';
    url.searchParams.set('api_key', 'key-abcdef123');
    await h.run({ env: { PRODUCTS_API_URL: url.href } });
    const manifest = await h.latest();
    let text = JSON.stringify(manifest) + h.logs.join('\n');
    // The index and the request log name every URL asked for.
    for (const f of manifest?.files ?? []) if (!f.path.endsWith('.bin')) text += (await h.readPage(1, f.path)).toString();
    expect(text).toContain('offset=0');
    expect(text).not.toContain('pa55word-xyz');
    expect(text).not.toContain('key-abcdef123');
  });
});

describe('products source: pagination guards', () => {
  it('offset: a catalogue needing more than PRODUCTS_MAX_PAGES pages is refused after the first page', async () => {
    const h = await harness({}, { PRODUCTS_MAX_PAGES: '2' });
    await expect(h.run()).rejects.toThrow(new PaginationError("the API's 25 products need 3 pages of 10, more than PRODUCTS_MAX_PAGES=2; snapshot aborted"));
    expect(h.api.stats().requests).toBe(1);
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });

  it.each([
    ['cursor', 'the API still gives a next cursor after PRODUCTS_MAX_PAGES=2 pages; snapshot aborted'],
    ['link', 'the API still links to a next page after PRODUCTS_MAX_PAGES=2 pages; snapshot aborted'],
  ] as const)('%s: more than PRODUCTS_MAX_PAGES pages aborts', async (style, message) => {
    const h = await harness({ pagination: style }, { PRODUCTS_PAGINATION: style, PRODUCTS_MAX_PAGES: '2' });
    await expect(h.run()).rejects.toThrow(new PaginationError(message));
    expect(await h.versions()).toEqual([]);
  });
});

describe('products source: shutdown', () => {
  it('stops promptly when the job signal aborts mid-snapshot (a request in flight), committing nothing', async () => {
    const h = await harness({ pagination: 'cursor', faults: [{ fault: 'stall', page: 2 }] }, { PRODUCTS_PAGINATION: 'cursor', PRODUCTS_TIMEOUT_MS: '600000' });
    const controller = new AbortController();
    const run = h.run({
      signal: controller.signal,
      onProgress: (p) => {
        if (p.pages === 1) setImmediate(() => controller.abort(new Error('received SIGTERM')));
      },
    });
    await expect(run).rejects.toThrow(new TransientError('products snapshot interrupted at page 2: received SIGTERM'));
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });
});

describe('products source: the request budget shared by all workers', () => {
  it('takes one unit of ctx.requestBudget before every request, retries included', async () => {
    const h = await harness({ faults: [{ fault: '503', page: 2, times: 1 }] });
    let takes = 0;
    const result = await h.run({
      budget: {
        take: async () => {
          takes += 1;
        },
      },
    });
    expect(result).toMatchObject({ status: 'committed', records: 25 });
    expect(h.api.stats().requests).toBe(4);
    expect(takes).toBe(4);
  });

  it('a shutdown while waiting for the budget stops the snapshot before any request', async () => {
    const h = await harness();
    const controller = new AbortController();
    const budget = {
      take: (signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')), { once: true });
          setImmediate(() => controller.abort(new Error('received SIGTERM')));
        }),
    };
    await expect(h.run({ budget, signal: controller.signal })).rejects.toThrow(new TransientError('products snapshot interrupted at page 1: received SIGTERM'));
    expect(h.api.stats().requests).toBe(0);
    expect(await h.versions()).toEqual([]);
  });
});
