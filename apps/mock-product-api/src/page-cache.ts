/** A page as served: its body bytes, its ETag and the headers that go with it. */
export interface CachedPage {
  body: Buffer;
  etag: string;
  headers: Readonly<Record<string, string>>;
}

/**
 * Least-recently-used cache of serialized pages, bounded by body bytes:
 * a page asked for again (a second snapshot, a retry, another worker) is
 * answered without generating, serializing or hashing it again.
 */
export class PageCache {
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;

  /** @param maxBytes body bytes kept (`pageCacheBytes`; 64 MiB by default, enough for a 100,000-product catalogue in pages of 100); 0 keeps nothing. */
  constructor(private readonly maxBytes: number) {}

  /** The page cached under `key`, now the most recently used; undefined when absent. */
  get(key: string): CachedPage | undefined {
    const page = this.pages.get(key);
    if (page !== undefined) {
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    return page;
  }

  /** Caches `page` under `key`, dropping the least recently used pages beyond the byte budget. */
  set(key: string, page: CachedPage): void {
    const size = page.body.byteLength;
    if (size > this.maxBytes) return;
    const old = this.pages.get(key);
    if (old !== undefined) {
      this.pages.delete(key);
      this.bytes -= old.body.byteLength;
    }
    this.pages.set(key, page);
    this.bytes += size;
    for (const [oldest, evicted] of this.pages) {
      if (this.bytes <= this.maxBytes) break;
      this.pages.delete(oldest);
      this.bytes -= evicted.body.byteLength;
    }
  }

  get size(): number {
    return this.pages.size;
  }

  get byteSize(): number {
    return this.bytes;
  }
}
