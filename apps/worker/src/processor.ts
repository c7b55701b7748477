import { randomBytes } from 'node:crypto';
import type { Config } from '@recomart/config';
import { classifyError, InvalidInputError, parsePayload, RateLimitedError, type IngestPayload, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import { echoInput, jobLogger, type AuditEventType, type Logger } from '@recomart/logging';
import type { AuditEventInput, IngestJobResult } from '@recomart/queue';
import { ingestBackoff } from '@recomart/queue';
import type { Source, SourceProgress } from '@recomart/sources';
import { UnrecoverableError, Worker } from 'bullmq';

/** The part of a BullMQ job the processor uses (a real `Job` fits; tests pass a plain object). */
export interface IngestJobLike {
  id?: string | undefined;
  data: unknown;
  /** Attempts already made before this one. */
  attemptsMade: number;
  opts: { attempts?: number | undefined };
  updateProgress(progress: object): Promise<void>;
  log(line: string): Promise<unknown>;
}

/** Where audit events go (an `AuditEmitter`, or a collector in tests). */
export interface AuditSink {
  emit(event: AuditEventInput): Promise<unknown>;
}

/** Metrics hooks; all optional. */
export interface ProcessorMetrics {
  outcome(source: string, outcome: 'committed' | 'unchanged' | 'failed' | 'retry', durationMs: number): void;
  ingested(source: string, bytes: number, rows: number, rejected: number): void;
}

export interface ProcessorDeps {
  config: Config;
  lake: Lake;
  sources: Readonly<Record<SourceName, Source>>;
  logger: Logger;
  audit: AuditSink;
  /** `host:pid` of this worker. */
  worker: string;
  /** The source whose queue this processor consumes; a job naming another source is refused. */
  queueSource?: SourceName;
  /** Hands the whole queue back to BullMQ's limiter for `ms` (shared by all workers). */
  rateLimit?: (ms: number) => Promise<void>;
  metrics?: ProcessorMetrics;
  /** Per-source request budgets shared by all workers (e.g. the product API's rate). */
  budgets?: Partial<Record<SourceName, { take(signal?: AbortSignal): Promise<void> }>>;
  /** Fired when the worker must stop (shutdown grace expired). */
  shutdownSignal?: AbortSignal;
  now?: () => number;
}

/** What a job handed back for a rate limit puts in its progress (`progress.rateLimited`). */
export interface RateLimitedProgress {
  /** Epoch ms when the queue's rate limiter lets it run again. */
  resumeAt: number;
  /** The page the next attempt starts from, when the source said. */
  resumeAtPage: number | null;
}

/**
 * Thrown to BullMQ for a retryable failure; carries the delay the processor
 * already chose and reported, so the worker's backoff strategy uses the same.
 */
export class RetryableJobError extends Error {
  override readonly name = 'RetryableJobError';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/** Progress is pushed to the job at most this often… */
const PROGRESS_EVERY_MS = 1000;
/** …and to the audit log (a `progress` event) at most this often. */
const AUDIT_PROGRESS_EVERY_MS = 10_000;

/**
 * Builds the ingest processor: payload check → source → lake commit, with
 * audit events for every start, retry, commit and failure. A plain function of
 * a job, testable without a queue; `apps/worker` only wires it into `new Worker`.
 */
export function createIngestProcessor(deps: ProcessorDeps) {
  const now = deps.now ?? Date.now;
  return async function processIngestJob(job: IngestJobLike): Promise<IngestJobResult> {
    const started = now();
    const attempt = job.attemptsMade + 1;
    const maxAttempts = job.opts.attempts ?? 1;
    const jobId = job.id ?? 'unknown';
    const runId = `${new Date(started).toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;

    let payload: IngestPayload;
    try {
      payload = parsePayload(job.data);
      if (deps.queueSource !== undefined && payload.source !== deps.queueSource) {
        throw new InvalidInputError(
          `job data names source ${JSON.stringify(payload.source)}, but the job is in the ${deps.queueSource} queue (ingest-${deps.queueSource})`,
        );
      }
      const named = /^([a-z][a-z0-9_-]*)__(\d{4}-\d{2}-\d{2})(__r[a-z0-9]+)?$/.exec(job.id ?? '');
      if (named && (named[1] !== payload.source || named[2] !== payload.date)) {
        throw new InvalidInputError(
          `job data names ${payload.source} ${payload.date}, but the job id ${echoInput(job.id)} is for ${named[1]} ${named[2]}`,
        );
      }
    } catch (err) {
      const reason = err instanceof InvalidInputError ? err.message : String(err);
      await record('failed', { jobId, runId, attempt, worker: deps.worker, errorClass: 'InvalidInputError', error: reason, final: true });
      throw new UnrecoverableError(reason);
    }
    const { source, date } = payload;
    const log = jobLogger(deps.logger, { queue: `ingest-${source}`, jobId, source, date, attempt, runId });
    const base = { jobId, source, date, runId, attempt, worker: deps.worker };

    async function record(type: AuditEventType, fields: Omit<AuditEventInput, 'type'>): Promise<void> {
      const line = JSON.stringify({ type, ...fields });
      await Promise.allSettled([deps.audit.emit({ type, ...fields }), job.log(line)]);
    }

    await record('started', { ...base, trigger: payload.trigger, maxAttempts });
    log.info({ event: 'started', trigger: payload.trigger }, 'ingest started');

    const controller = new AbortController();
    const onShutdown = () => controller.abort(deps.shutdownSignal?.reason);
    deps.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });
    let lastProgressAt = 0;
    let lastAuditProgressAt = started;
    let latest: SourceProgress = {};
    const progress = (p: SourceProgress) => {
      latest = { ...latest, ...p };
      const t = now();
      if (t - lastProgressAt < PROGRESS_EVERY_MS) return;
      lastProgressAt = t;
      job.updateProgress({ ...latest }).catch((err: unknown) => log.warn({ err }, 'could not report progress'));
      if (t - lastAuditProgressAt >= AUDIT_PROGRESS_EVERY_MS) {
        lastAuditProgressAt = t;
        void record('progress', { ...base, ...latest, elapsedMs: t - started });
      }
    };

    try {
      const sourceFn = deps.sources[source];
      const result = await sourceFn({
        source,
        date,
        runId,
        jobId,
        attempt,
        lake: deps.lake,
        config: deps.config,
        logger: log,
        signal: controller.signal,
        progress,
        ...(deps.budgets?.[source] ? { requestBudget: deps.budgets[source] } : {}),
      });
      const durationMs = now() - started;
      await job.updateProgress({ ...latest, done: true }).catch(() => undefined);
      await record(result.status, {
        ...base,
        version: result.version,
        files: result.files,
        records: result.records,
        rejected: result.rejected,
        bytes: result.bytes,
        durationMs,
      });
      log.info({ event: result.status, version: result.version, records: result.records, rejected: result.rejected, durationMs }, `ingest ${result.status}`);
      deps.metrics?.outcome(source, result.status, durationMs);
      if (result.status === 'committed') deps.metrics?.ingested(source, result.bytes, result.records, result.rejected);
      return { ...result, source, date, durationMs };
    } catch (err) {
      const c = classifyError(err);
      const durationMs = now() - started;
      if (err instanceof RateLimitedError && deps.rateLimit && c.retryAfterMs !== undefined) {
        // Hand the job back: the whole queue waits, no worker sleeps holding a job.
        await record('retry-scheduled', { ...base, errorClass: c.errorClass, error: c.reason, delayMs: c.retryAfterMs, rateLimited: true });
        log.warn({ event: 'rate-limited', delayMs: c.retryAfterMs, resumeAtPage: err.resumeAtPage }, c.reason);
        // For `--wait`: "rate limited, resuming at page N in T s".
        const rateLimited: RateLimitedProgress = { resumeAt: now() + c.retryAfterMs, resumeAtPage: err.resumeAtPage ?? null };
        await job.updateProgress({ ...latest, rateLimited }).catch((progressErr: unknown) => log.warn({ err: progressErr }, 'could not report progress'));
        await deps.rateLimit(c.retryAfterMs);
        throw Worker.RateLimitError();
      }
      const final = !c.retryable || attempt >= maxAttempts;
      await record('failed', { ...base, errorClass: c.errorClass, error: c.reason, final, durationMs });
      deps.metrics?.outcome(source, final ? 'failed' : 'retry', durationMs);
      if (final) {
        log.error({ event: 'failed', errorClass: c.errorClass, final }, c.reason);
        throw new UnrecoverableError(c.reason);
      }
      const delayMs = ingestBackoff(attempt, deps.config.jobs.backoffMs, err);
      await record('retry-scheduled', { ...base, errorClass: c.errorClass, error: c.reason, delayMs, nextAttempt: attempt + 1 });
      log.warn({ event: 'retry-scheduled', errorClass: c.errorClass, delayMs }, c.reason);
      throw new RetryableJobError(c.reason, delayMs);
    } finally {
      deps.shutdownSignal?.removeEventListener('abort', onShutdown);
    }
  };
}
