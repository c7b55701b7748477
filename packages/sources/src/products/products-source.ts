import { redactSecrets } from '@recomart/config';
import { TransientError } from '@recomart/jobs';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { walkCursorPages } from './cursor-pages.js';
import { walkLinkPages } from './link-pages.js';
import { walkNumberedPages } from './numbered-pages.js';
import { PageCollector } from './page-collector.js';
import { PageFetcher } from './page-fetcher.js';
import type { PageWalkContext } from './page-walk.js';
import { ProductValidator } from './product-validator.js';
import { publicUrl } from './public-url.js';
import { RateGate } from './rate-gate.js';
import type { RequestLogEntry } from './request-log.js';
import { HttpTransport } from './transport.js';

/** What can be swapped in a products source (tests pin the jitter). */
export interface ProductsSourceDeps {
  /** Uniform source in [0, 1) for the backoff jitter. @defaultValue Math.random */
  random?: () => number;
}

function walk(w: PageWalkContext, secrets: readonly string[]): Promise<void> {
  switch (w.settings.pagination) {
    case 'offset':
    case 'page':
      return walkNumberedPages(w);
    case 'cursor':
      return walkCursorPages(w);
    case 'link':
      return walkLinkPages(w, secrets);
  }
}

/**
 * The product metadata source: one run takes a full snapshot of the
 * catalogue API into the date's partition, every page body as received (one
 * file per page), validation counts and the request log in the manifest. Any
 * failure aborts the write session: a partial snapshot is never committed.
 */
export function createProductsSource(deps: ProductsSourceDeps = {}): Source {
  return async (ctx: SourceContext): Promise<SourceResult> => {
    const s = ctx.config.products;
    const secrets = [...ctx.config.secrets, ...(s.apiToken ? [s.apiToken] : [])];
    const shownApi = publicUrl(s.apiUrl, secrets);
    const started = Date.now();
    const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
    const transport = new HttpTransport({ timeoutMs: s.timeoutMs, maxSockets: s.concurrency, token: s.apiToken });
    const requests: RequestLogEntry[] = [];
    const validator = new ProductValidator(s.fieldMap);
    const collector = new PageCollector(session, validator, (p) => ctx.progress(p));
    const fetcher = new PageFetcher(
      transport,
      new RateGate(),
      { pageRetries: s.pageRetries, retryBaseMs: s.retryBaseMs, maxRetryAfterMs: s.maxRetryAfterMs, inlineWaitMs: s.inlineWaitMs, shape: { itemsField: s.itemsField, totalField: s.totalField, cursorField: s.cursorField } },
      secrets,
      requests,
      ctx.logger,
      deps.random,
      ctx.requestBudget,
    );
    ctx.logger.info({ api: shownApi, pagination: s.pagination, pageSize: s.pageSize, concurrency: s.concurrency }, 'products snapshot started');
    try {
      await walk({ fetcher, collector, settings: s, signal: ctx.signal }, secrets);
      await collector.flush();
      if (ctx.signal.aborted) throw new TransientError('products snapshot interrupted before commit');
      collector.checkTotal();
      const result = await session.commit({
        records: validator.products,
        rejected: validator.rejected,
        validation: { ...validator.summary(), pages: collector.pages, apiTotal: collector.apiTotal ?? null },
        provenance: {
          api: shownApi,
          pagination: s.pagination,
          pageSize: s.pageSize,
          concurrency: s.pagination === 'offset' || s.pagination === 'page' ? s.concurrency : 1,
          pages: collector.pages,
          requests,
          retries: requests.length - collector.pages,
          durationMs: Date.now() - started,
        },
      });
      const out: SourceResult = { status: result.status, version: result.version, records: validator.products, rejected: validator.rejected, files: collector.pages, bytes: collector.bytes };
      ctx.logger.info({ ...out, requests: requests.length, durationMs: Date.now() - started }, `products snapshot ${result.status}`);
      return out;
    } catch (err) {
      try {
        await collector.settle();
        await session.abort();
      } catch (abortErr) {
        ctx.logger.error({ error: redactSecrets(abortErr instanceof Error ? abortErr.message : String(abortErr), secrets) }, 'products snapshot: aborting the write session failed');
      }
      ctx.logger.warn({ pages: collector.pages, requests: requests.length, error: redactSecrets(err instanceof Error ? err.message : String(err), secrets) }, 'products snapshot failed; nothing committed');
      throw err;
    } finally {
      transport.close();
    }
  };
}

/** The products source with real randomness. */
export const productsSource: Source = createProductsSource();
