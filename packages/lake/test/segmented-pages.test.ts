import { describe, expect, it } from 'vitest';
import { indexedPageUrl, looseFileName, loosePageOf, pageIndexLine, parsePageIndexLine, resolvePageUrl, segmentFileName, segmentNumberOf, type PageIndexEntry } from '@recomart/lake';

const entry: PageIndexEntry = { page: 12, segment: 'pages/segment-0002.bin', offset: 4096, length: 311, sha256: 'a'.repeat(64), url: '/products?offset=1100&limit=100', status: 200 };

describe('segmented pages: names and the index format', () => {
  it('names segments and loose pages, and reads the numbers back', () => {
    expect(segmentFileName(1)).toBe('pages/segment-0001.bin');
    expect(segmentFileName(12345)).toBe('pages/segment-12345.bin');
    expect(segmentNumberOf('pages/segment-0042.bin')).toBe(42);
    expect(segmentNumberOf('pages/segment-42.bin')).toBeUndefined();
    expect(segmentNumberOf('pages/000001.json')).toBeUndefined();
    expect(looseFileName(105)).toBe('pages/loose-000105.json');
    expect(loosePageOf('pages/loose-000105.json')).toBe(105);
    expect(loosePageOf('pages/index.ndjson')).toBeUndefined();
  });

  it('writes one line per page with a fixed key order, and parses it back', () => {
    const line = pageIndexLine({ status: 200, url: entry.url, sha256: entry.sha256, length: 311, offset: 4096, segment: entry.segment, page: 12 });
    expect(line).toBe(`{"page":12,"segment":"pages/segment-0002.bin","offset":4096,"length":311,"sha256":"${'a'.repeat(64)}","url":"/products?offset=1100&limit=100","status":200}\n`);
    expect(parsePageIndexLine(line.trim())).toEqual(entry);
  });

  it.each([
    ['not JSON', '{"page":', 'not JSON'],
    ['an array', '[1]', 'not a JSON object'],
    ['page 0', JSON.stringify({ ...entry, page: 0 }), 'no page number'],
    ['a segment outside pages/', JSON.stringify({ ...entry, segment: '../x.bin' }), 'page 12: no segment name'],
    ['a negative offset', JSON.stringify({ ...entry, offset: -1 }), 'page 12: no offset or length'],
    ['a short sha256', JSON.stringify({ ...entry, sha256: 'abc' }), 'page 12: no sha256'],
    ['no status', JSON.stringify({ ...entry, status: undefined }), 'page 12: no url or status'],
  ])('refuses %s', (_what, line, problem) => {
    expect(parsePageIndexLine(line)).toEqual({ problem });
  });

  it('records a URL on the endpoint origin relative to it (same pages through another port: same index), any other whole', () => {
    const api = 'http://127.0.0.1:4010/products';
    expect(indexedPageUrl('http://127.0.0.1:4010/products?offset=0&limit=2', api)).toBe('/products?offset=0&limit=2');
    expect(indexedPageUrl('http://127.0.0.1:4011/products?offset=0&limit=2', 'http://127.0.0.1:4011/products')).toBe('/products?offset=0&limit=2');
    expect(indexedPageUrl('https://cdn.example/p?page=2', api)).toBe('https://cdn.example/p?page=2');
    expect(resolvePageUrl('/products?offset=0&limit=2', api)).toBe('http://127.0.0.1:4010/products?offset=0&limit=2');
    expect(resolvePageUrl('https://cdn.example/p?page=2', api)).toBe('https://cdn.example/p?page=2');
    expect(resolvePageUrl('/products?offset=0', undefined)).toBe('/products?offset=0');
  });
});
