/**
 * The ingest error taxonomy. Every error a source or the lake throws on
 * purpose is one of these; each says whether another attempt can succeed.
 * `classifyError` (classify.ts) is the one place that turns any thrown value
 * into a retry decision.
 */
export abstract class IngestError extends Error {
  /** Whether a later attempt of the same job may succeed. */
  abstract readonly retryable: boolean;
  /** When set, the source asked to be left alone this long (e.g. HTTP Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** Thrown when a name, date, path or payload is refused (bad source name, 2024-02-30, ../x, a payload edited into garbage). Never retried. */
export class InvalidInputError extends IngestError {
  override readonly name = 'InvalidInputError';
  readonly retryable = false;
}

/** Thrown when a source's data does not match its contract (missing columns, not CSV, ragged rows, an over-long row). Never retried; fix the input, then retry by hand. */
export class SchemaMismatchError extends IngestError {
  override readonly name = 'SchemaMismatchError';
  readonly retryable = false;
}

/** Thrown when the data for a date is not there yet (no landing files). Retried: files arrive late. */
export class NotArrivedError extends IngestError {
  override readonly name = 'NotArrivedError';
  readonly retryable = true;
}

/** Thrown on a passing fault: a timeout, a reset connection, a 5xx, a malformed body, an I/O error, a full disk. Retried. */
export class TransientError extends IngestError {
  override readonly name = 'TransientError';
  readonly retryable = true;
}

/**
 * Thrown when a source answers 429 with a wait too long to hold the job;
 * `retryAfterMs` says how long it asked us to wait (already capped), and
 * `resumeAtPage` the page the next attempt starts from. Retried (the job is
 * handed back to the queue's rate limiter).
 */
export class RateLimitedError extends IngestError {
  override readonly name = 'RateLimitedError';
  readonly retryable = true;
  /** The first page the next attempt lacks, when the source knows it. */
  readonly resumeAtPage: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number; resumeAtPage?: number }) {
    super(message, options);
    this.resumeAtPage = options?.resumeAtPage;
  }
}

/**
 * Thrown when a rate-limited job stops being worth handing back: no new page
 * in `PRODUCTS_MAX_STALLED_HANDBACKS` hand-backs in a row, or still unfinished
 * after `PRODUCTS_MAX_SNAPSHOT_MS`. Never retried; the message names the limit
 * met, the pages got and the settings to change.
 */
export class RateLimitExhaustedError extends IngestError {
  override readonly name = 'RateLimitExhaustedError';
  readonly retryable = false;
}

/** Thrown when a source refuses the request for good (4xx other than 408/429: bad token, not found). Never retried. */
export class PermanentSourceError extends IngestError {
  override readonly name = 'PermanentSourceError';
  readonly retryable = false;
}

/** Thrown when paging goes wrong in a way retrying will not fix (a cursor that repeats, more than the page limit). Never retried. */
export class PaginationError extends IngestError {
  override readonly name = 'PaginationError';
  readonly retryable = false;
}

/** Thrown when a snapshot's count disagrees with the API's total (the catalogue changed mid-snapshot). Retried. */
export class SnapshotMismatchError extends IngestError {
  override readonly name = 'SnapshotMismatchError';
  readonly retryable = true;
}

/** Thrown after a version WAS committed but too many rows were rejected; the operator must look. Never retried. */
export class RejectRatioExceededError extends IngestError {
  override readonly name = 'RejectRatioExceededError';
  readonly retryable = false;
}
