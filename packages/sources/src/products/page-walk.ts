import type { Config } from '@recomart/config';
import type { PageCollector } from './page-collector.js';
import type { PageFetcher } from './page-fetcher.js';

/** What a pagination walk needs: it fetches every page and hands each to the collector. */
export interface PageWalkContext {
  fetcher: PageFetcher;
  collector: PageCollector;
  settings: Config['products'];
  signal: AbortSignal;
}

/** One pagination style. */
export type PageWalk = (w: PageWalkContext) => Promise<void>;
