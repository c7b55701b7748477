import { PaginationError, RateLimitedError } from '@recomart/jobs';
import { runPagePool } from './page-pool.js';
import type { PageWalkContext } from './page-walk.js';

/** The URL of page `index` (1-based) in the offset or page style. */
export function numberedPageUrl(w: PageWalkContext, index: number): string {
  const s = w.settings;
  const url = new URL(s.apiUrl);
  if (s.pagination === 'page') {
    url.searchParams.set(s.pageParam, String(index));
    url.searchParams.set(s.perPageParam, String(s.pageSize));
  } else {
    url.searchParams.set(s.offsetParam, String((index - 1) * s.pageSize));
    url.searchParams.set(s.limitParam, String(s.pageSize));
  }
  return url.href;
}

/**
 * Offset (`?offset=&limit=`) and page (`?page=&per_page=`) styles. The first
 * page tells the total; the rest are fetched `concurrency` at a time. Without
 * a total, pages are fetched one after another until a short page. Pages
 * an earlier attempt stored (`w.resume.have`) are not asked for again.
 */
export async function walkNumberedPages(w: PageWalkContext): Promise<void> {
  const { pageSize, maxPages, concurrency } = w.settings;
  const { have } = w.resume;
  let lastIndex = 1;
  let lastItems: number;
  if (have.has(1)) {
    lastIndex = Math.max(lastIndex, have.highest);
    lastItems = w.resume.lastItems ?? pageSize;
  } else {
    const first = await w.fetcher.fetch(1, numberedPageUrl(w, 1), w.signal);
    await w.collector.accept(first);
    lastItems = first.parsed.items.length;
  }
  const total = w.collector.apiTotal;
  if (total !== undefined) {
    const pages = Math.max(1, Math.ceil(total / pageSize));
    if (pages > maxPages) {
      throw new PaginationError(`the API's ${total} products need ${pages} pages of ${pageSize}, more than PRODUCTS_MAX_PAGES=${maxPages}; snapshot aborted`);
    }
    await runPagePool(
      2,
      pages,
      concurrency,
      async (index, signal) => {
        if (have.has(index)) return;
        const page = await w.fetcher.fetch(index, numberedPageUrl(w, index), signal);
        await w.collector.accept(page);
      },
      w.signal,
      {
        // A hand-back lets the pages already on the wire land (and be kept); none is sent after it.
        abortInFlight: (error) => !(error instanceof RateLimitedError),
        onFirstFailure: (error) => {
          if (error instanceof RateLimitedError) w.fetcher.stopSending();
          // Pages waiting in the collector for the failed page's turn stop waiting (they stay held).
          w.collector.release();
        },
      },
    );
    return;
  }
  for (let index = lastIndex + 1; lastItems >= pageSize; index++) {
    if (index > maxPages) {
      throw new PaginationError(`the API still returns full pages after PRODUCTS_MAX_PAGES=${maxPages} pages of ${pageSize}; snapshot aborted`);
    }
    const page = await w.fetcher.fetch(index, numberedPageUrl(w, index), w.signal);
    await w.collector.accept(page);
    lastItems = page.parsed.items.length;
  }
}
