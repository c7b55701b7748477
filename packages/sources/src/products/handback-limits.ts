import type { Config } from '@recomart/config';

/** Where a rate-limited snapshot stands when it is about to be handed back. */
export interface HandbackStanding {
  /** Hand-backs in a row without a new page, this one included. */
  stalledHandbacks: number;
  /** Epoch ms of the snapshot's first request. */
  firstRequestAt: number;
  /** Pages and products stored so far. */
  pages: number;
  products: number;
  /** Pages the whole snapshot needs, when the API told its total. */
  pagesNeeded: number | undefined;
  /** Attempts so far, this one included. */
  attempts: number;
}

function duration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * Why a rate-limited snapshot must stop being handed back (one line naming
 * the limit met, the pages got and the settings to change), or undefined
 * while it may go on: no new page in `PRODUCTS_MAX_STALLED_HANDBACKS`
 * hand-backs in a row, or unfinished `PRODUCTS_MAX_SNAPSHOT_MS` after its
 * first request.
 */
export function handbackLimitMet(standing: HandbackStanding, s: Config['products'], now: number = Date.now()): string | undefined {
  const elapsed = now - standing.firstRequestAt;
  const got = `got ${standing.pages}${standing.pagesNeeded === undefined ? '' : ` of ${standing.pagesNeeded}`} pages (${standing.products} products) in ${standing.attempts} attempt${standing.attempts === 1 ? '' : 's'} over ${duration(elapsed)}`;
  if (standing.stalledHandbacks >= s.maxStalledHandbacks) {
    return `products snapshot gave up: rate limited with no new page in ${standing.stalledHandbacks} hand-backs in a row (PRODUCTS_MAX_STALLED_HANDBACKS=${s.maxStalledHandbacks}); ${got}; to go on, raise PRODUCTS_MAX_STALLED_HANDBACKS or PRODUCTS_MAX_HANDBACK_MS, or set PRODUCTS_RATE_LIMIT below the API's limit`;
  }
  if (elapsed >= s.maxSnapshotMs) {
    return `products snapshot gave up: still rate limited ${duration(elapsed)} after its first request (PRODUCTS_MAX_SNAPSHOT_MS=${s.maxSnapshotMs}); ${got}; to go on, raise PRODUCTS_MAX_SNAPSHOT_MS (and LAKE_STAGING_MAX_AGE_MS with it), or raise PRODUCTS_PAGE_SIZE so fewer requests are needed`;
  }
  return undefined;
}
