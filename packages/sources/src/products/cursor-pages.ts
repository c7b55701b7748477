import { PaginationError } from '@recomart/jobs';
import type { PageWalkContext } from './page-walk.js';

function shown(cursor: string): string {
  return JSON.stringify(cursor.length > 80 ? `${cursor.slice(0, 77)}...` : cursor);
}

/**
 * Cursor style (`?cursor=`, next cursor in the body): one page after another
 * until the cursor is empty. A cursor handed out twice, or more than
 * `PRODUCTS_MAX_PAGES` pages, aborts the snapshot.
 */
export async function walkCursorPages(w: PageWalkContext): Promise<void> {
  const s = w.settings;
  const requested = new Set<string>();
  let cursor: string | undefined;
  for (let index = 1; ; index++) {
    if (index > s.maxPages) {
      throw new PaginationError(`the API still gives a next cursor after PRODUCTS_MAX_PAGES=${s.maxPages} pages; snapshot aborted`);
    }
    const url = new URL(s.apiUrl);
    url.searchParams.set(s.limitParam, String(s.pageSize));
    if (cursor !== undefined) url.searchParams.set(s.cursorParam, cursor);
    const page = await w.fetcher.fetch(index, url.href, w.signal);
    await w.collector.accept(page);
    const next = page.parsed.nextCursor;
    if (next === undefined) return;
    if (requested.has(next)) {
      throw new PaginationError(`products page ${index} gives cursor ${shown(next)} again (the API is not advancing); snapshot aborted`);
    }
    requested.add(next);
    cursor = next;
  }
}
