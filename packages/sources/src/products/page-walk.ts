import type { Config } from '@recomart/config';
import type { PageCollector, StoredPages } from './page-collector.js';
import type { PageFetcher } from './page-fetcher.js';
import type { NextPage } from './snapshot-resume.js';

/** What an earlier attempt of the same snapshot already stored, so a walk skips it. */
export interface ResumePoint {
  /** The pages already stored or held (replayed into the collector): not fetched again. */
  have: StoredPages;
  /** Cursor and link styles: the page to go on from; undefined = from the first. */
  next: NextPage | undefined;
  /** Products on the highest page stored (offset and page styles without a total). */
  lastItems: number | undefined;
  /** Cursors the stored pages handed out (the cursor style's loop check). */
  cursors: ReadonlySet<string>;
}

/** A walk from the first page. */
export const FROM_THE_START: ResumePoint = { have: { has: () => false, highest: 0 }, next: undefined, lastItems: undefined, cursors: new Set() };

/** What a pagination walk needs: it fetches every page it lacks and hands each to the collector. */
export interface PageWalkContext {
  fetcher: PageFetcher;
  collector: PageCollector;
  settings: Config['products'];
  signal: AbortSignal;
  resume: ResumePoint;
  /** Cursor and link styles: told where the walk goes on after each page it accepted (null: it was the last). */
  onNext?(next: NextPage | null): void;
}

/** One pagination style. */
export type PageWalk = (w: PageWalkContext) => Promise<void>;
