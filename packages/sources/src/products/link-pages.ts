import { PaginationError } from '@recomart/jobs';
import { redactSecrets } from '@recomart/config';
import { nextLink } from './link-header.js';
import { publicUrl } from './public-url.js';
import type { PageWalkContext } from './page-walk.js';

/**
 * Link style (bare array body, RFC 8288 `Link: <…>; rel="next"`): follows
 * the next links from the first page (`?per_page=`). A link to a page already
 * fetched, a link to another origin (which would carry the token elsewhere),
 * or more than `PRODUCTS_MAX_PAGES` pages aborts the snapshot. A resumed walk
 * goes on from the next link an earlier attempt saved with its pages.
 */
export async function walkLinkPages(w: PageWalkContext, secrets: readonly string[]): Promise<void> {
  const s = w.settings;
  const first = new URL(s.apiUrl);
  first.searchParams.set(s.perPageParam, String(s.pageSize));
  const fetched = new Set<string>();
  let url: string | undefined = w.resume.next?.url ?? first.href;
  for (let index = w.resume.next?.index ?? 1; url !== undefined; index++) {
    if (index > s.maxPages) {
      throw new PaginationError(`the API still links to a next page after PRODUCTS_MAX_PAGES=${s.maxPages} pages; snapshot aborted`);
    }
    fetched.add(url);
    const page = await w.fetcher.fetch(index, url, w.signal);
    await w.collector.accept(page);
    const next = nextLink(page.headers.get('link'), page.url);
    w.onNext?.(next === undefined ? null : { index: index + 1, url: next });
    if (next === undefined) return;
    if (new URL(next).origin !== first.origin) {
      throw new PaginationError(redactSecrets(`products page ${index} links to another origin (${publicUrl(next, secrets)}); snapshot aborted`, secrets));
    }
    if (fetched.has(next)) {
      throw new PaginationError(`products page ${index} links to ${publicUrl(next, secrets)} again (the API is not advancing); snapshot aborted`);
    }
    url = next;
  }
}
