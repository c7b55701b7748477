import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { closeMocksAfterEach, start } from './start-mock.js';
import { parseMockApiArgs } from '@recomart/mock-product-api';

closeMocksAfterEach();

/** GET with a chosen Host header: status, headers (without Date) and the body bytes. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const { date: _date, ...rest } = res.headers;
          resolve({ status: res.statusCode ?? 0, headers: rest, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('mock product API: page cache', () => {
  it.each(['offset', 'page', 'cursor', 'link'] as const)('%s: a page asked again is byte-identical, with the same headers, whether cached or not', async (pagination) => {
    const cached = await start({ pagination });
    const uncached = await start({ pagination, pageCacheBytes: 0 });
    const query = pagination === 'offset' || pagination === 'cursor' ? '?limit=10' : '?page=2&per_page=10';
    const a1 = await get(`${cached.url}${query}`);
    const a2 = await get(`${cached.url}${query}`);
    const b1 = await get(`${uncached.url}${query}`);
    expect(a1.status).toBe(200);
    expect(a2).toEqual(a1);
    const samePort = (h: Record<string, unknown>) => JSON.parse(JSON.stringify(h).replaceAll(String(uncached.port), String(cached.port))) as Record<string, unknown>;
    expect(samePort(b1.headers)).toEqual(a1.headers);
    expect(b1.body).toEqual(a1.body);
    // 304 for the cached ETag, from the cache too.
    const etag = String(a1.headers.etag);
    expect((await get(`${cached.url}${query}`, { 'if-none-match': etag })).status).toBe(304);
    expect(cached.stats().byOutcome).toEqual({ '200': 2, '304': 1 });
  });

  it('link: the Link header follows each request\'s own host, cached or not', async () => {
    const api = await start({ pagination: 'link' });
    const one = await get(`${api.url}?page=1&per_page=10`, { host: 'catalogue.test:8080' });
    const two = await get(`${api.url}?page=1&per_page=10`, { host: 'other.test' });
    expect(one.headers.link).toBe('<http://catalogue.test:8080/products?page=2&per_page=10>; rel="next"');
    expect(two.headers.link).toBe('<http://other.test/products?page=2&per_page=10>; rel="next"');
    expect(two.body).toEqual(one.body);
  });

  it('faults bend a cached page without touching the cache', async () => {
    const api = await start();
    const clean = await get(`${api.url}?offset=0&limit=10`);
    const twisted = await get(`${api.url}?offset=0&limit=10`, { 'x-mock-fault': 'wrong-types' });
    expect(twisted.body.toString()).toMatch(/"price":"\d+\.\d\d EUR"/);
    expect(twisted.headers.etag).not.toBe(clean.headers.etag);
    expect(await get(`${api.url}?offset=0&limit=10`)).toEqual(clean);
  });

  it('--page-cache-mb sets the budget in MiB; 0 turns the cache off', () => {
    expect(parseMockApiArgs(['--page-cache-mb', '8']).pageCacheBytes).toBe(8 * 1024 * 1024);
    expect(parseMockApiArgs(['--page-cache-mb', '0']).pageCacheBytes).toBe(0);
    expect(() => parseMockApiArgs(['--page-cache-mb', 'lots'])).toThrow('--page-cache-mb must be a whole number from 0 to 65536, got "lots"');
  });
});
