import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { closeMocksAfterEach, start } from './start-mock.js';
import { mockApiCommand, startMockProductApi } from '@recomart/mock-product-api';

closeMocksAfterEach();

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

type Item = Record<string, unknown>;
type Body = Record<string, unknown> & { items: Item[] };

describe('mock product API: pagination styles', () => {
  it('offset: {items, total, offset, limit} pages that cover the catalogue exactly once', async () => {
    const api = await start();
    const ids: unknown[] = [];
    for (let offset = 0; offset < 25; offset += 10) {
      const { status, body } = await getJson(`${api.url}?offset=${offset}&limit=10`);
      expect(status).toBe(200);
      const b = body as Body;
      expect(Object.keys(b)).toEqual(['items', 'total', 'offset', 'limit']);
      expect(b).toMatchObject({ total: 25, offset, limit: 10 });
      ids.push(...b.items.map((p) => p.product_id));
    }
    expect(new Set(ids).size).toBe(25);
    expect(ids).toHaveLength(25);
  });

  it('page: ?page=&per_page= with {items, total, page, per_page}', async () => {
    const api = await start({ pagination: 'page' });
    const { body } = await getJson(`${api.url}?page=3&per_page=10`);
    const b = body as Body;
    expect(Object.keys(b)).toEqual(['items', 'total', 'page', 'per_page']);
    expect(b.items.map((p) => p.product_id)).toEqual(['P0000021', 'P0000022', 'P0000023', 'P0000024', 'P0000025']);
  });

  it('cursor: {items, next_cursor} until next_cursor is null', async () => {
    const api = await start({ pagination: 'cursor' });
    const ids: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body }: { body: unknown } = await getJson(`${api.url}?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      const b = body as Body & { next_cursor: string | null };
      expect(Object.keys(b)).toEqual(['items', 'next_cursor']);
      ids.push(...b.items.map((p) => p.product_id));
      cursor = b.next_cursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(new Set(ids).size).toBe(25);
  });

  it('link: a bare array and an RFC 8288 Link rel="next" header, none on the last page', async () => {
    const api = await start({ pagination: 'link' });
    const ids: unknown[] = [];
    let url: string | undefined = `${api.url}?per_page=10`;
    const links: string[] = [];
    while (url) {
      const { body, headers }: { body: unknown; headers: Headers } = await getJson(url);
      expect(Array.isArray(body)).toBe(true);
      expect(headers.get('x-total-count')).toBe('25');
      ids.push(...(body as Item[]).map((p) => p.product_id));
      const link = headers.get('link');
      url = link ? /<([^>]+)>; rel="next"/.exec(link)?.[1] : undefined;
      if (link) links.push(link);
    }
    expect(links).toEqual([`<${api.url}?per_page=10&page=2>; rel="next"`, `<${api.url}?per_page=10&page=3>; rel="next"`]);
    expect(new Set(ids).size).toBe(25);
  });

  it('mimics another API: skip/limit, items under "products", renamed fields', async () => {
    const api = await start({ params: { offset: 'skip' }, itemsField: 'products', rename: { product_id: 'id', popularity_score: 'rating' } });
    const { body } = await getJson(`${api.url}?skip=20&limit=10`);
    const b = body as { products: Item[] };
    expect(Object.keys(b)).toEqual(['products', 'total', 'skip', 'limit']);
    expect(b.products).toHaveLength(5);
    expect(Object.keys(b.products[0]!)).toEqual(['id', 'category', 'brand', 'price', 'rating', 'updated_at']);
  });

  it('serves the last page of a million-product catalogue', async () => {
    const api = await start({ products: 1_000_000 });
    const b = (await getJson(`${api.url}?offset=999900&limit=1000`)).body as Body;
    expect(b.total).toBe(1_000_000);
    expect(b.items).toHaveLength(100);
    expect(b.items.at(-1)?.product_id).toBe('P1000000');
  });

  it('answers 400 naming a bad parameter', async () => {
    const api = await start();
    const { status, body } = await getJson(`${api.url}?limit=5000`);
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'limit must be a whole number from 1 to 1000, got "5000"', status: 400 });
  });
});

describe('mock product API: caching and access', () => {
  it('serves byte-identical pages for the same seed, with an ETag and 304 on If-None-Match', async () => {
    const a = await start({ seed: 's1' });
    const b = await start({ seed: 's1' });
    const first = await fetch(`${a.url}?offset=10&limit=10`);
    const second = await fetch(`${b.url}?offset=10&limit=10`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(second.headers.get('etag')).toBe(etag);
    expect(await first.text()).toBe(await second.text());
    const cached = await fetch(`${a.url}?offset=10&limit=10`, { headers: { 'if-none-match': etag! } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
    const other = await fetch(`${a.url}?offset=0&limit=10`, { headers: { 'if-none-match': etag! } });
    expect(other.status).toBe(200);
  });

  it('requires the bearer token when one is set', async () => {
    const api = await start({ token: 's3cret-token' });
    expect((await getJson(api.url)).status).toBe(401);
    const wrong = await getJson(api.url, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: 'missing or invalid bearer token', status: 401 });
    expect((await getJson(api.url, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
  });

  it('answers /healthz and 404 elsewhere', async () => {
    const api = await start();
    expect(await getJson(`${api.origin}/healthz`)).toMatchObject({ status: 200, body: { status: 'ok', products: 25, pagination: 'offset' } });
    expect(await getJson(`${api.origin}/nope`)).toMatchObject({ status: 404, body: { error: 'no route GET /nope' } });
  });
});

describe('mock product API: faults', () => {
  it('header script: the first N requests to a page fail, then it succeeds', async () => {
    const api = await start();
    const headers = { 'x-mock-fault': '503', 'x-mock-fault-times': '2' };
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await getJson(`${api.url}?offset=10&limit=10`, { headers })).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect((await getJson(`${api.url}?offset=0&limit=10`, { headers })).status).toBe(503);
    expect(api.stats().byPage).toEqual({ '1': 1, '2': 3 });
  });

  it('429 carries the Retry-After asked for, seconds or an HTTP date', async () => {
    const api = await start();
    const date = new Date(Date.now() + 5000).toUTCString();
    const a = await getJson(api.url, { headers: { 'x-mock-fault': '429', 'x-mock-retry-after': '7' } });
    const b = await getJson(api.url, { headers: { 'x-mock-fault': '429', 'x-mock-retry-after': date } });
    expect([a.status, a.headers.get('retry-after')]).toEqual([429, '7']);
    expect([b.status, b.headers.get('retry-after')]).toEqual([429, date]);
  });

  it('reset destroys the connection without an answer', async () => {
    const api = await start();
    await expect(fetch(api.url, { headers: { 'x-mock-fault': 'reset' } })).rejects.toThrow();
    expect(api.stats().byOutcome.reset).toBe(1);
  });

  it('truncate cuts the JSON body in half; html answers 200 with an HTML page', async () => {
    const api = await start();
    const truncated = await getJson(api.url, { headers: { 'x-mock-fault': 'truncate' } });
    expect(truncated.status).toBe(200);
    expect(truncated.body).toBeUndefined();
    expect(truncated.text.startsWith('{"items":[')).toBe(true);
    const html = await getJson(api.url, { headers: { 'x-mock-fault': 'html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('<html>');
  });

  it('wrong-types serves prices and scores as strings; short-page drops the last product', async () => {
    const api = await start();
    const wrong = (await getJson(`${api.url}?limit=10`, { headers: { 'x-mock-fault': 'wrong-types' } })).body as Body;
    expect(wrong.items.every((p) => typeof p.price === 'string' && typeof p.popularity_score === 'string')).toBe(true);
    const short = (await getJson(`${api.url}?limit=10`, { headers: { 'x-mock-fault': 'short-page' } })).body as Body;
    expect(short.items).toHaveLength(9);
    expect(short.total).toBe(25);
  });

  it('repeat: the cursor does not advance, the link points to itself, offset pages serve page 1 again', async () => {
    const cursorApi = await start({ pagination: 'cursor', faults: [{ fault: 'repeat' }] });
    const c1 = (await getJson(`${cursorApi.url}?limit=10`)).body as { next_cursor: string };
    const c2 = (await getJson(`${cursorApi.url}?limit=10&cursor=${c1.next_cursor}`)).body as { next_cursor: string };
    expect(c2.next_cursor).toBe(c1.next_cursor);
    const linkApi = await start({ pagination: 'link', faults: [{ fault: 'repeat', page: 2 }] });
    const l2 = await fetch(`${linkApi.url}?page=2&per_page=10`);
    expect(l2.headers.get('link')).toBe(`<${linkApi.url}?page=2&per_page=10>; rel="next"`);
    const offsetApi = await start({ faults: [{ fault: 'repeat', page: 3 }] });
    const p1 = (await getJson(`${offsetApi.url}?offset=0&limit=10`)).body as Body;
    const p3 = (await getJson(`${offsetApi.url}?offset=20&limit=10`)).body as Body;
    expect(p3.items).toEqual(p1.items);
  });

  it('stall never answers; close() still ends promptly', async () => {
    const api = await startMockProductApi({ port: 0, products: 10 });
    const request = fetch(api.url, { headers: { 'x-mock-fault': 'stall' }, signal: AbortSignal.timeout(50) });
    await expect(request).rejects.toThrow();
    expect(api.stats().byOutcome.stalled).toBe(1);
    await api.close();
  });

  it('POST /__faults sets a plan (checked, with exact messages), GET shows it, DELETE clears it', async () => {
    const api = await start();
    const post = (body: string) => getJson(`${api.origin}/__faults`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(await post('[{"fault":"502","page":1,"times":1}]')).toMatchObject({ status: 200, body: { faults: 1 } });
    expect((await getJson(api.url)).status).toBe(502);
    expect((await getJson(api.url)).status).toBe(200);
    expect((await getJson(`${api.origin}/__faults`)).body).toEqual([{ rule: { fault: '502', page: 1, times: 1 }, used: 1 }]);
    expect(await post('[{"fault":"boom"}]')).toMatchObject({
      status: 400,
      body: { error: 'fault must be a status from 400 to 599 or one of reset, truncate, html, deep-json, repeat, wrong-types, stall, short-page, got "boom"' },
    });
    expect((await getJson(`${api.origin}/__faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await getJson(`${api.origin}/__faults`)).body).toEqual([]);
  });

  it('--fail-ratio 1 answers every request 500, 502 or 503', async () => {
    const api = await start({ failRatio: 1 });
    const statuses = await Promise.all(Array.from({ length: 12 }, async () => (await getJson(api.url)).status));
    expect(statuses.every((s) => [500, 502, 503].includes(s))).toBe(true);
  });

  it('--rate-limit answers 429 with Retry-After past N requests a second, and the stats count it', async () => {
    const api = await start({ rateLimitPerSecond: 3 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => getJson(api.url)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((a) => a.headers.get('retry-after') === '1')).toBe(true);
    expect(limited[0]?.body).toEqual({ error: 'rate limit of 3 requests per second exceeded', status: 429 });
    const stats = api.stats();
    expect(stats.requests).toBe(12);
    expect((stats.byOutcome['200'] ?? 0) + (stats.byOutcome['429'] ?? 0)).toBe(12);
    expect(stats.maxRequestsPerSecond).toBeGreaterThanOrEqual(stats.maxServedPerSecond);
  });
});

describe('recomart mock-api', () => {
  it('with --port 0 prints the chosen port, serves, and stops on the abort signal', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const controller = new AbortController();
    let out = '';
    const line = new Promise<string>((resolve) => {
      stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
    });
    const exit = mockApiCommand.run(['--port', '0', '--products', '7', '--pagination', 'page'], { stdout, stderr, env: {}, signal: controller.signal });
    const printed = await line;
    const m = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/products) \(port (\d+); 7 products, page pagination\)/.exec(printed);
    expect(m).not.toBeNull();
    expect(m?.[2]).toBe(m?.[3]);
    const { body } = await getJson(`${m![1]}?per_page=100`);
    expect((body as Body).items).toHaveLength(7);
    const page2 = (await getJson(`${m![1]}?page=2&per_page=5`)).body as Body;
    expect(page2).toMatchObject({ total: 7, page: 2, per_page: 5 });
    expect(page2.items.map((p) => p.product_id)).toEqual(['P0000006', 'P0000007']);
    controller.abort();
    expect(await exit).toBe(0);
  });
});
