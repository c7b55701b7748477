import { describe, expect, it } from 'vitest';
import { PageCache, type CachedPage } from '../src/page-cache.js';

const page = (bytes: number, tag = 'x'): CachedPage => ({ body: Buffer.alloc(bytes, tag), etag: `"${tag}"`, headers: {} });

describe('PageCache', () => {
  it('keeps pages up to its byte budget, dropping the least recently used first', () => {
    const cache = new PageCache(300);
    cache.set('a', page(100, 'a'));
    cache.set('b', page(100, 'b'));
    cache.set('c', page(100, 'c'));
    expect(cache.get('a')?.etag).toBe('"a"'); // a is now the most recently used
    cache.set('d', page(100, 'd'));
    expect(cache.get('b')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('d')].map((p) => p?.etag)).toEqual(['"a"', '"c"', '"d"']);
    expect(cache.byteSize).toBe(300);
  });

  it('replaces a page under the same key, and keeps nothing larger than its budget (0: nothing at all)', () => {
    const cache = new PageCache(150);
    cache.set('a', page(100, 'a'));
    cache.set('a', page(120, 'b'));
    expect(cache.size).toBe(1);
    expect(cache.byteSize).toBe(120);
    cache.set('big', page(151));
    expect(cache.get('big')).toBeUndefined();
    const none = new PageCache(0);
    none.set('a', page(10));
    expect(none.size).toBe(0);
  });
});
