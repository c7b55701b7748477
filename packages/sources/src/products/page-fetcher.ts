import { setTimeout as delay } from 'node:timers/promises';
import { redactSecrets } from '@recomart/config';
import { PermanentSourceError, RateLimitedError, TransientError } from '@recomart/jobs';
import type { SourceContext, SourceLogger } from '../source.js';
import { apiMessage } from './api-message.js';
import { fullJitterDelay } from './backoff.js';
import { MalformedPageError, parsePage, type PageShape, type ParsedPage } from './page-body.js';
import { publicUrl } from './public-url.js';
import type { RateGate } from './rate-gate.js';
import { readRateLimitHeaders } from './rate-limit-headers.js';
import { RequestPacer } from './request-pacer.js';
import type { RequestLog, RequestLogEntry } from './request-log.js';
import { parseRetryAfter } from './retry-after.js';
import { MAX_REDIRECTS, RedirectRefusedError, TransportFailure, type HttpAnswer, type HttpTransport, type RedirectHop } from './transport.js';

/** A request budget shared by every worker (`SourceContext.requestBudget`). */
export type RequestBudget = NonNullable<SourceContext['requestBudget']>;

/** A page fetched and parsed: the body exactly as received, and what it says. */
export interface FetchedPage {
  index: number;
  /** The URL asked for (may carry secrets in its query: never show it). */
  url: string;
  /** The URL without secrets. */
  shownUrl: string;
  body: Buffer;
  headers: HttpAnswer['headers'];
  parsed: ParsedPage;
}

export interface PageFetcherSettings {
  /** Retries of one page after its first attempt. */
  pageRetries: number;
  retryBaseMs: number;
  /** Longest rate-limit wait held inside the job (`PRODUCTS_MAX_RETRY_AFTER_MS`); longer hands the job back. */
  maxRetryAfterMs: number;
  /** Cap of one hand-back (`PRODUCTS_MAX_HANDBACK_MS`): a longer wait is clamped to it. */
  maxHandbackMs: number;
  shape: PageShape;
}

/**
 * A 429 whose retry budget ran out is handed back with at least this wait,
 * so a `Retry-After: 0` loop cannot spin the queue.
 * @defaultValue 1000 ms
 */
export const MIN_HANDBACK_MS = 1000;

/** Thrown inside the retry loop for an answer worth another try. */
class RetryableAnswer extends Error {
  override readonly name = 'RetryableAnswer';
}

/**
 * Fetches one page with the per-page retry budget. Every attempt first waits
 * for the snapshot's rate gate, then for its turn as the API's rate-limit
 * headers pace it (`RequestPacer`), then takes one unit of the workers'
 * shared request budget, when there is one. Timeouts, resets, 5xx, 408
 * and malformed bodies are retried after an exponential backoff with full
 * jitter; a 429 whose wait is at most `maxRetryAfterMs` is waited out
 * (closing the shared gate, so every page of the snapshot pauses), a longer
 * one hands the job back (RateLimitedError, the wait clamped to
 * `maxHandbackMs`); other 4xx fail for good.
 */
export class PageFetcher {
  /** When the first request of this fetcher was sent, and the last answer (or failure) came (epoch ms). */
  firstSentAt: number | undefined;
  lastAnsweredAt: number | undefined;
  private readonly pacer = new RequestPacer();
  /** Aborted by `stopSending`: waiting pages give up, no request is sent. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly transport: HttpTransport,
    private readonly gate: RateGate,
    private readonly settings: PageFetcherSettings,
    private readonly secrets: readonly string[],
    private readonly log: RequestLog,
    private readonly logger: SourceLogger,
    private readonly random: () => number = Math.random,
    private readonly budget?: RequestBudget,
  ) {}

  async fetch(index: number, url: string, signal: AbortSignal): Promise<FetchedPage> {
    const shownUrl = publicUrl(url, this.secrets);
    const attempts = this.settings.pageRetries + 1;
    let lastError: Error | undefined;
    let lastRateLimitMs: number | undefined;
    const waits = AbortSignal.any([signal, this.stopping.signal]);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.waitOrStop(() => this.gate.pass(waits), index, signal);
      let seq = 0;
      await this.waitOrStop(async () => {
        seq = await this.pace(index, waits);
      }, index, signal);
      await this.waitOrStop(() => this.takeBudget(waits), index, signal);
      if (this.stopping.signal.aborted) throw new TransientError(`products page ${index} not asked for: the snapshot is being handed back`);
      const entry: RequestLogEntry = { page: index, attempt, url: shownUrl, status: null, bytes: 0, durationMs: 0 };
      this.firstSentAt ??= Date.now();
      const started = performance.now();
      let retryDelay: number | undefined;
      lastRateLimitMs = undefined;
      try {
        try {
          const answer = await this.transport.get(url, signal);
          this.lastAnsweredAt = Date.now();
          this.pacer.observe(readRateLimitHeaders(answer.headers), seq);
          if (answer.redirects.length > 0) entry.redirects = this.shownHops(answer.redirects);
          entry.durationMs = Math.round((performance.now() - started) * 10) / 10;
          entry.status = answer.status;
          entry.bytes = answer.body.byteLength;
          if (answer.status === 200) {
            try {
              const parsed = parsePage(answer.body, answer.headers.get('content-type'), this.settings.shape);
              return { index, url, shownUrl, body: answer.body, headers: answer.headers, parsed };
            } catch (err) {
              if (!(err instanceof MalformedPageError)) throw err;
              throw new RetryableAnswer(`malformed page from ${shownUrl}: ${err.message}`);
            }
          }
          const said = apiMessage(answer.body);
          const statusLine = `HTTP ${answer.status} from ${shownUrl}${said ? `: ${said}` : ''}`;
          if (answer.status === 429) {
            const header = answer.headers.get('retry-after');
            // A negative, past or unreadable Retry-After says nothing: back off as without one.
            const wait = parseRetryAfter(header) ?? fullJitterDelay(attempt - 1, this.settings.retryBaseMs, this.random);
            if (wait > this.settings.maxRetryAfterMs) {
              const handback = Math.min(wait, this.settings.maxHandbackMs);
              entry.error = `rate limited; handed back for ${handback} ms`;
              const clamped = handback < wait ? ` (clamped to PRODUCTS_MAX_HANDBACK_MS=${this.settings.maxHandbackMs})` : '';
              throw new RateLimitedError(this.clean(`products page ${index}: ${statusLine} (Retry-After ${JSON.stringify(header)}); job handed back to the queue for ${handback} ms${clamped}`), { retryAfterMs: handback });
            }
            this.gate.hold(wait);
            lastRateLimitMs = wait;
            retryDelay = 0;
            throw new RetryableAnswer(`${statusLine} (Retry-After ${JSON.stringify(header)})`);
          }
          if (answer.status >= 500 || answer.status === 408) throw new RetryableAnswer(statusLine);
          if (answer.status >= 200 && answer.status < 300) throw new RetryableAnswer(`unexpected HTTP ${answer.status} from ${shownUrl}`);
          throw new PermanentSourceError(this.clean(`products page ${index}: ${statusLine}`));
        } catch (err) {
          if (entry.durationMs === 0) entry.durationMs = Math.round((performance.now() - started) * 10) / 10;
          if (err instanceof RedirectRefusedError) {
            entry.redirects = this.shownHops(err.hops);
            entry.status = err.status;
            entry.error = err.message;
            throw new PermanentSourceError(this.clean(this.refusal(index, err)));
          }
          if (err instanceof TransportFailure) {
            if (err.kind === 'aborted') throw this.interrupted(index, signal);
            lastError = new RetryableAnswer(`request to ${shownUrl} failed: ${err.message}`);
            entry.error = err.message;
          } else if (err instanceof RetryableAnswer) {
            lastError = err;
            entry.error ??= err.message;
          } else {
            entry.error ??= err instanceof Error ? err.message : String(err);
            throw err;
          }
        }
      } finally {
        // Every attempt is one line of the request log, written once it ended.
        await this.log.add(entry);
      }
      if (attempt === attempts) break;
      const backoff = retryDelay ?? fullJitterDelay(attempt - 1, this.settings.retryBaseMs, this.random);
      this.logger.warn({ page: index, pageAttempt: attempt, error: this.clean(lastError.message), retryInMs: lastRateLimitMs ?? backoff }, 'products page failed; retrying');
      await this.waitOrStop(() => delay(backoff, undefined, { signal }), index, signal);
    }
    const message = this.clean(`products page ${index} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${lastError?.message ?? 'no answer'}`);
    if (lastRateLimitMs !== undefined) {
      const retryAfterMs = Math.min(this.settings.maxHandbackMs, Math.max(lastRateLimitMs, MIN_HANDBACK_MS));
      throw new RateLimitedError(`${message}; job handed back to the queue for ${retryAfterMs} ms`, { retryAfterMs, cause: lastError });
    }
    throw new TransientError(message, { cause: lastError });
  }

  /**
   * Sends no more requests: pages waiting for their turn give up (the job is
   * being handed back); requests already sent finish.
   */
  stopSending(): void {
    this.stopping.abort(new Error('the snapshot is being handed back'));
  }

  /**
   * Waits for this request's turn as the API's rate-limit headers pace the
   * snapshot (answers its pacer ticket); a turn further away than
   * `maxRetryAfterMs` hands the job back.
   */
  private async pace(index: number, signal: AbortSignal): Promise<number> {
    const { waitMs: wait, seq } = this.pacer.reserve();
    if (wait === 0) return seq;
    if (wait > this.settings.maxRetryAfterMs) {
      this.pacer.release();
      const handback = Math.min(wait, this.settings.maxHandbackMs);
      throw new RateLimitedError(`products page ${index}: the API's rate-limit window is spent and resets in ${wait} ms; job handed back to the queue for ${handback} ms`, { retryAfterMs: handback });
    }
    await delay(wait, undefined, { signal });
    return seq;
  }

  /**
   * One unit of the budget shared by all workers. The budget listens to a
   * signal of its own, so no listener piles up on the job's signal.
   */
  private async takeBudget(signal: AbortSignal): Promise<void> {
    if (this.budget === undefined) return;
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.budget.take(local.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async waitOrStop(wait: () => Promise<unknown>, index: number, signal: AbortSignal): Promise<void> {
    try {
      await wait();
    } catch (err) {
      if (signal.aborted) throw this.interrupted(index, signal);
      throw err;
    }
  }

  private interrupted(index: number, signal: AbortSignal): TransientError {
    const reason: unknown = signal.reason;
    const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
    return new TransientError(this.clean(`products snapshot interrupted at page ${index}: ${why}`));
  }

  private shownHops(hops: readonly RedirectHop[]): Array<{ status: number; to: string }> {
    return hops.map((h) => ({ status: h.status, to: publicUrl(h.to, this.secrets) }));
  }

  /** The one line for a redirect not followed, naming both ends and what would allow it. */
  private refusal(index: number, err: RedirectRefusedError): string {
    const from = publicUrl(err.from, this.secrets);
    const to = publicUrl(err.to, this.secrets);
    if (err.reason === 'too-many') return `products page ${index}: ${from} redirected more than ${MAX_REDIRECTS} times (last to ${to}); not followed`;
    return `products page ${index}: ${from} answered HTTP ${err.status} redirecting to another origin, ${to}; not followed (the API token is only ever sent to the API's own origin): add ${new URL(err.to).origin} to PRODUCTS_ALLOW_REDIRECTS to follow it without credentials`;
  }

  private clean(message: string): string {
    return redactSecrets(message, this.secrets);
  }
}
