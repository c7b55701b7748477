import { PaginationError } from '@recomart/jobs';
import type { PageWalkContext } from './page-walk.js';

function shown(cursor: string): string {
  return JSON.stringify(cursor.length > 80 ? `${cursor.slice(0, 77)}...` : cursor);
}

/**
 * Cursor style (`?cursor=`, next cursor in the body): one page after another
 * until the cursor is empty. A cursor handed out twice, or more than
 * `PRODUCTS_MAX_PAGES` pages, aborts the snapshot. A resumed walk goes on
 * from the cursor an earlier attempt saved with its pages.
 */
export async function walkCursorPages(w: PageWalkContext): Promise<void> {
  const s = w.settings;
  const requested = new Set<string>(w.resume.cursors);
  let cursor: string | undefined = w.resume.next?.cursor;
  for (let index = w.resume.next?.index ?? 1; ; index++) {
    if (index > s.maxPages) {
      throw new PaginationError(`the API still gives a next cursor after PRODUCTS_MAX_PAGES=${s.maxPages} pages; snapshot aborted`);
    }
    const url = new URL(s.apiUrl);
    url.searchParams.set(s.limitParam, String(s.pageSize));
    if (cursor !== undefined) url.searchParams.set(s.cursorParam, cursor);
    const page = await w.fetcher.fetch(index, url.href, w.signal);
    await w.collector.accept(page);
    const next = page.parsed.nextCursor;
    w.onNext?.(next === undefined ? null : { index: index + 1, cursor: next });
    if (next === undefined) return;
    if (requested.has(next)) {
      throw new PaginationError(`products page ${index} gives cursor ${shown(next)} again (the API is not advancing); snapshot aborted`);
    }
    requested.add(next);
    cursor = next;
  }
}
