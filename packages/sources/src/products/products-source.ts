import { redactSecrets, type Config } from '@recomart/config';
import { RateLimitedError, RateLimitExhaustedError, TransientError } from '@recomart/jobs';
import { keptPagesOf, keptSegmentPages, looseFileName, loosePageOf, segmentNumberOf, SegmentedPagesWriter, type ManifestFile, type WriteSession } from '@recomart/lake';
import type { Source, SourceContext, SourceProgress, SourceResult } from '../source.js';
import { walkCursorPages } from './cursor-pages.js';
import { walkLinkPages } from './link-pages.js';
import { walkNumberedPages } from './numbered-pages.js';
import { handbackLimitMet } from './handback-limits.js';
import { parsePage, type PageShape, type ParsedPage } from './page-body.js';
import { PageCollector, type PageStore } from './page-collector.js';
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

/**
 * The pages a kept staging holds, replayed into the collector (counts,
 * validation, repeat guard) as if fetched now: first those in its segments
 * (read back through the index; the writer then goes on after them), then,
 * once `openWriter` opened the writer, the loose ones (held until their turn,
 * their kept files removed). Where the walk goes on.
 */
async function replayKept(session: WriteSession, kept: ResumeState, collector: PageCollector, shape: PageShape, openWriter: () => Promise<void>): Promise<ResumePoint> {
  collector.apiTotal = kept.apiTotal ?? undefined;
  const cursors = new Set<string>();
  let highest = 0;
  let lastItems: number | undefined;
  const seen = (index: number, parsed: ParsedPage): void => {
    if (parsed.nextCursor !== undefined) cursors.add(parsed.nextCursor);
    if (index > highest) {
      highest = index;
      lastItems = parsed.items.length;
    }
  };
  for await (const page of keptSegmentPages(session)) {
    const parsed = parsePage(page.bytes, null, shape);
    collector.replayStored(page.page, parsed, page.bytes.byteLength);
    seen(page.page, parsed);
  }
  await openWriter();
  const files = session.resumed?.files ?? [];
  for (const file of files) {
    const index = loosePageOf(file.path);
    if (index === undefined) continue;
    const bytes = await session.readFile(file.path);
    const parsed = parsePage(bytes, null, shape);
    collector.replayLoose(index, parsed, { page: index, url: file.origin, status: 200, bytes });
    await session.removeFile(file.path);
    seen(index, parsed);
  }
  return { have: collector, next: kept.next ?? undefined, lastItems, cursors };
}

/** Whether kept pages can be gone on from: a one-after-another style needs to know its next page. */
function resumable(kept: ResumeState, files: readonly ManifestFile[], pagination: Config['products']['pagination']): boolean {
  const sequential = pagination === 'cursor' || pagination === 'link';
  return !sequential || kept.next !== null || !files.some((f) => segmentNumberOf(f.path) !== undefined || loosePageOf(f.path) !== undefined);
}

/** What an attempt starts from: its request log, its pages writer, the collector with the kept pages replayed. */
interface Prepared {
  requests: RequestLog;
  writer: SegmentedPagesWriter;
  collector: PageCollector;
  resumePoint: ResumePoint;
}

/**
 * Opens the request log and the pages writer of `session` (going on with the
 * kept ones when it resumed a kept staging of `kept`) and replays the kept pages.
 */
async function prepare(
  session: WriteSession,
  kept: ResumeState | undefined,
  validator: ProductValidator,
  shape: PageShape,
  origin: string,
  segmentBytes: number,
  progress: (p: SourceProgress) => void,
): Promise<Prepared> {
  const requests = await RequestLog.open(session, origin, kept?.requestSummary);
  const keptPages = kept !== undefined && session.resumed !== undefined ? await keptPagesOf(session) : undefined;
  let writer: SegmentedPagesWriter | undefined;
  const openWriter = async (): Promise<void> => {
    writer = await SegmentedPagesWriter.open(session, origin, segmentBytes, keptPages);
  };
  // The collector hands pages over only once the writer is open (replayKept opens it before the loose pages).
  const store: PageStore = {
    append: (page) => {
      if (writer === undefined) throw new Error('products snapshot: a page was stored before the pages writer was open');
      return writer.append(page);
    },
  };
  const collector = new PageCollector(store, validator, progress, (keptPages?.lastPage ?? 0) + 1);
  let resumePoint = FROM_THE_START;
  if (keptPages !== undefined && kept !== undefined) resumePoint = await replayKept(session, kept, collector, shape, openWriter);
  else await openWriter();
  if (writer === undefined) throw new Error('products snapshot: the pages writer was not opened');
  return { requests, writer, collector, resumePoint };
}

/**
 * The product metadata source: one run takes a full snapshot of the
 * catalogue API into the date's partition, every page body as received
 * (concatenated in page order into segment files with an index:
 * `SegmentedPagesWriter`), the request log (`_requests.ndjson`), and
 * validation counts and the log's summary in the manifest. Any
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
    const validator = new ProductValidator(s.fieldMap, { dataDir: ctx.config.dataDir });
    let prepared: Prepared;
    try {
      prepared = await prepare(session, kept, validator, shape, shownApi, s.segmentBytes, (p) => ctx.progress(p));
    } catch (err) {
      await abortQuietly(session, ctx, secrets);
      await validator.dispose();
      throw err;
    }
    const { requests, collector, writer, resumePoint } = prepared;
    const replayed = collector.pages;
    if (replayed > 0 && kept !== undefined) {
      ctx.logger.info({ keptPages: replayed, handbacks: kept.handbacks, firstRequestAt: new Date(kept.firstRequestAt).toISOString() }, `products snapshot resumed from page ${kept.next?.index ?? collector.firstMissing()}`);
    }
    const transport = new HttpTransport({ timeoutMs: s.timeoutMs, maxSockets: s.concurrency, token: s.apiToken, allowedRedirectOrigins: s.allowRedirects });
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
    /** This attempt, as the manifest and the kept state list it. */
    const attemptRecord = (outcome: SnapshotAttempt['outcome']): SnapshotAttempt => ({
      runId: ctx.runId,
      attempt: ctx.attempt,
      startedAt,
      endedAt: new Date().toISOString(),
      pages: collector.pages - replayed,
      firstPage: collector.firstFetched ?? null,
      lastPage: collector.lastFetched ?? null,
      outcome,
    });
    try {
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
      await writer.finish();
      await requests.finish();
      if (ctx.signal.aborted) throw new TransientError('products snapshot interrupted before commit');
      collector.checkTotal();
      await validator.finish();
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
      collector.release();
      await collector.settle();
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
          // Pages held out of order are kept loose; the open segment, the index and the request log are finished.
          for (const page of collector.held()) await session.writeFile(looseFileName(page.page), page.url, page.bytes);
          await writer.finish();
          await requests.finish();
          await session.keep(resumeStateRecord(state));
          resumeAtPage = storable?.index ?? collector.firstMissing();
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
      await validator.dispose();
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
