import { redactSecrets, type Config } from '@recomart/config';
import { RateLimitedError, RateLimitExhaustedError, TransientError } from '@recomart/jobs';
import type { ManifestFile, WriteSession } from '@recomart/lake';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { walkCursorPages } from './cursor-pages.js';
import { walkLinkPages } from './link-pages.js';
import { walkNumberedPages } from './numbered-pages.js';
import { handbackLimitMet } from './handback-limits.js';
import { parsePage, type PageShape } from './page-body.js';
import { PageCollector, pageIndexOf } from './page-collector.js';
import { PageFetcher } from './page-fetcher.js';
import { FROM_THE_START, type PageWalkContext, type ResumePoint } from './page-walk.js';
import { ProductValidator } from './product-validator.js';
import { publicUrl } from './public-url.js';
import { RateGate } from './rate-gate.js';
import { RequestLog, REQUEST_LOG_FILE, type RequestSummary } from './request-log.js';
import { readResumeState, resumeStateRecord, settingsFingerprint, type NextPage, type ResumeState, type SnapshotAttempt } from './snapshot-resume.js';
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

/** The pages a kept staging holds, replayed into the collector: where the walk goes on. */
async function replayKept(session: WriteSession, files: readonly ManifestFile[], kept: ResumeState, collector: PageCollector, shape: PageShape): Promise<ResumePoint> {
  collector.apiTotal = kept.apiTotal ?? undefined;
  const have = new Set<number>();
  const cursors = new Set<string>();
  let highest = 0;
  let lastItems: number | undefined;
  for (const file of files) {
    const index = pageIndexOf(file.path);
    if (index === undefined) continue;
    const parsed = parsePage(await session.readFile(file.path), null, shape);
    collector.replay(index, parsed, file.bytes);
    have.add(index);
    if (parsed.nextCursor !== undefined) cursors.add(parsed.nextCursor);
    if (index > highest) {
      highest = index;
      lastItems = parsed.items.length;
    }
  }
  return { have, next: kept.next ?? undefined, lastItems, cursors };
}

/** Whether kept pages can be gone on from: a one-after-another style needs to know its next page. */
function resumable(kept: ResumeState, files: readonly ManifestFile[], pagination: Config['products']['pagination']): boolean {
  const sequential = pagination === 'cursor' || pagination === 'link';
  return !sequential || kept.next !== null || !files.some((f) => pageIndexOf(f.path) !== undefined);
}

/** The first page index not stored. */
function firstMissing(stored: ReadonlySet<number>): number {
  let index = 1;
  while (stored.has(index)) index++;
  return index;
}

/**
 * The product metadata source: one run takes a full snapshot of the
 * catalogue API into the date's partition, every page body as received (one
 * file per page), validation counts and the request log in the manifest. Any
 * failure for good aborts the write session: a partial snapshot is never
 * committed. A rate-limited attempt (handed back to the queue) keeps the pages
 * it stored, with its counters and where to go on, in the lake's kept staging
 * of its job (`WriteSession.keep`); the next attempt resumes from the first
 * page it lacks, and gives up for good at `handbackLimitMet`.
 */
export function createProductsSource(deps: ProductsSourceDeps = {}): Source {
  return async (ctx: SourceContext): Promise<SourceResult> => {
    const s = ctx.config.products;
    const secrets = [...ctx.config.secrets, ...(s.apiToken ? [s.apiToken] : [])];
    const shownApi = publicUrl(s.apiUrl, secrets);
    const started = Date.now();
    const startedAt = new Date(started).toISOString();
    const fingerprint = settingsFingerprint(s);
    const shape: PageShape = { itemsField: s.itemsField, totalField: s.totalField, cursorField: s.cursorField };
    const init = { source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt, resumeKey: ctx.jobId };
    let session = await ctx.lake.begin(init);
    let kept = session.resumed === undefined ? undefined : readResumeState(session.resumed.state, fingerprint);
    if (session.resumed !== undefined && (kept === undefined || !resumable(kept, session.resumed.files, s.pagination))) {
      const why = kept === undefined ? 'were fetched with other settings' : 'do not say where to go on';
      ctx.logger.info({ keptPages: session.resumed.files.length }, `products snapshot: the pages kept by an earlier attempt ${why}; starting over`);
      await session.abort();
      session = await ctx.lake.begin(init);
      // The hand-back counters still hold (same settings): only the pages go.
      kept = kept === undefined ? undefined : { ...kept, next: null, apiTotal: null };
    }
    let requests: RequestLog;
    try {
      requests = await RequestLog.open(session, shownApi, kept?.requestSummary);
    } catch (err) {
      await abortQuietly(session, ctx, secrets);
      throw err;
    }
    const transport = new HttpTransport({ timeoutMs: s.timeoutMs, maxSockets: s.concurrency, token: s.apiToken, allowedRedirectOrigins: s.allowRedirects });
    const validator = new ProductValidator(s.fieldMap);
    const collector = new PageCollector(session, validator, (p) => ctx.progress(p));
    const fetcher = new PageFetcher(
      transport,
      new RateGate(),
      { pageRetries: s.pageRetries, retryBaseMs: s.retryBaseMs, maxRetryAfterMs: s.maxRetryAfterMs, maxHandbackMs: s.maxHandbackMs, shape },
      secrets,
      requests,
      ctx.logger,
      deps.random,
      ctx.requestBudget,
    );
    let next: NextPage | null = kept?.next ?? null;
    let replayed = 0;
    let resumePoint: ResumePoint = FROM_THE_START;
    /** This attempt, as the manifest and the kept state list it. */
    const attemptRecord = (outcome: SnapshotAttempt['outcome']): SnapshotAttempt => {
      let first: number | null = null;
      let last: number | null = null;
      for (const index of collector.stored) {
        if (resumePoint.have.has(index)) continue;
        if (first === null || index < first) first = index;
        if (last === null || index > last) last = index;
      }
      return { runId: ctx.runId, attempt: ctx.attempt, startedAt, endedAt: new Date().toISOString(), pages: collector.pages - replayed, firstPage: first, lastPage: last, outcome };
    };
    try {
      if (kept !== undefined && session.resumed !== undefined) {
        resumePoint = await replayKept(session, session.resumed.files, kept, collector, shape);
        replayed = collector.pages;
        ctx.logger.info({ keptPages: replayed, handbacks: kept.handbacks, firstRequestAt: new Date(kept.firstRequestAt).toISOString() }, `products snapshot resumed from page ${next?.index ?? firstMissing(collector.stored)}`);
      }
      ctx.logger.info({ api: shownApi, pagination: s.pagination, pageSize: s.pageSize, concurrency: s.concurrency }, 'products snapshot started');
      await walk(
        {
          fetcher,
          collector,
          settings: s,
          signal: ctx.signal,
          resume: resumePoint,
          onNext: (n) => {
            next = n;
          },
        },
        secrets,
      );
      await collector.flush();
      await requests.finish();
      if (ctx.signal.aborted) throw new TransientError('products snapshot interrupted before commit');
      collector.checkTotal();
      const firstRequestAt = kept?.firstRequestAt ?? fetcher.firstSentAt ?? started;
      const lastRequestAt = fetcher.lastAnsweredAt ?? kept?.lastRequestAt ?? Date.now();
      const attempts = [...(kept?.attempts ?? []), attemptRecord('committed')];
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
          ...requestProvenance(requests.summary),
          retries: requests.summary.requests - collector.pages,
          durationMs: Date.now() - started,
          firstRequestAt: new Date(firstRequestAt).toISOString(),
          lastRequestAt: new Date(lastRequestAt).toISOString(),
          rateLimitHandbacks: kept?.handbacks ?? 0,
          attempts,
        },
      });
      const out: SourceResult = { status: result.status, version: result.version, records: validator.products, rejected: validator.rejected, files: collector.pages, bytes: collector.bytes };
      ctx.logger.info({ ...out, requests: requests.summary.requests, attempts: attempts.length, durationMs: Date.now() - started }, `products snapshot ${result.status}`);
      return out;
    } catch (err) {
      await collector.settle();
      if (!(err instanceof RateLimitedError)) await requests.settle();
      if (err instanceof RateLimitedError) {
        const stalledHandbacks = collector.pages > replayed ? 0 : (kept?.stalledHandbacks ?? 0) + 1;
        const firstRequestAt = kept?.firstRequestAt ?? fetcher.firstSentAt ?? started;
        const pagesNeeded = collector.apiTotal === undefined ? undefined : Math.max(1, Math.ceil(collector.apiTotal / s.pageSize));
        const attempts = [...(kept?.attempts ?? []), attemptRecord('rate-limited')];
        const limit = handbackLimitMet({ stalledHandbacks, firstRequestAt, pages: collector.pages, products: collector.rows, pagesNeeded, attempts: attempts.length }, s);
        if (limit !== undefined) {
          await abortQuietly(session, ctx, secrets);
          ctx.logger.error({ pages: collector.pages, requests: requests.summary.requests, handbacks: (kept?.handbacks ?? 0) + 1 }, limit);
          throw new RateLimitExhaustedError(limit, { cause: err });
        }
        const storable = next !== null && next.url !== undefined && secrets.some((x) => x !== '' && (next as NextPage).url?.includes(x)) ? null : next;
        const state: ResumeState = {
          format: 2,
          settings: fingerprint,
          firstRequestAt,
          lastRequestAt: fetcher.lastAnsweredAt ?? kept?.lastRequestAt ?? Date.now(),
          handbacks: (kept?.handbacks ?? 0) + 1,
          stalledHandbacks,
          attempts,
          apiTotal: collector.apiTotal ?? null,
          next: storable,
          requestSummary: requests.summary,
        };
        let resumeAtPage: number | undefined;
        try {
          await requests.finish();
          await session.keep(resumeStateRecord(state));
          resumeAtPage = storable?.index ?? firstMissing(collector.stored);
        } catch (keepErr) {
          ctx.logger.error({ error: redactSecrets(keepErr instanceof Error ? keepErr.message : String(keepErr), secrets) }, 'products snapshot: keeping its pages for the next attempt failed');
          await abortQuietly(session, ctx, secrets);
        }
        const error = redactSecrets(err instanceof Error ? err.message : String(err), secrets);
        ctx.logger.warn({ pages: collector.pages, requests: requests.summary.requests, handbacks: state.handbacks, stalledHandbacks, resumeAtPage, error }, resumeAtPage === undefined ? 'products snapshot failed; nothing kept' : 'products snapshot paused; its pages are kept for the next attempt');
        if (resumeAtPage !== undefined) {
          throw new RateLimitedError(`${err.message}; ${collector.pages} page${collector.pages === 1 ? '' : 's'} kept, the next attempt resumes at page ${resumeAtPage}`, { cause: err, retryAfterMs: err.retryAfterMs, resumeAtPage });
        }
        throw err;
      }
      await abortQuietly(session, ctx, secrets);
      ctx.logger.warn({ pages: collector.pages, requests: requests.summary.requests, error: redactSecrets(err instanceof Error ? err.message : String(err), secrets) }, 'products snapshot failed; nothing committed');
      throw err;
    } finally {
      transport.close();
    }
  };
}

/** What the manifest's provenance says of the request log: its file and its counts. */
function requestProvenance(summary: RequestSummary): Record<string, unknown> {
  return { requestLog: REQUEST_LOG_FILE, requests: summary.requests, statuses: summary.statuses, rateLimited: summary.rateLimited, bytesReceived: summary.bytesReceived };
}

/** Aborts the write session, logging (not throwing) a failure to. */
async function abortQuietly(session: WriteSession, ctx: SourceContext, secrets: readonly string[]): Promise<void> {
  try {
    await session.abort();
  } catch (abortErr) {
    ctx.logger.error({ error: redactSecrets(abortErr instanceof Error ? abortErr.message : String(abortErr), secrets) }, 'products snapshot: aborting the write session failed');
  }
}

/** The products source with real randomness. */
export const productsSource: Source = createProductsSource();
