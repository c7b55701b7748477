import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '@recomart/config';
import { RateLimitedError, SchemaMismatchError, TransientError, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import { createLogger } from '@recomart/logging';
import type { AuditEventInput } from '@recomart/queue';
import type { Source } from '@recomart/sources';
import { createIngestProcessor, RetryableJobError, type IngestJobLike } from '@recomart/worker';
import { Writable } from 'node:stream';

const config = loadConfig({ JOB_BACKOFF_MS: '1000' });
const logger = createLogger({ app: 'test', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const lake = {} as Lake; // the processor only hands it to the source

function fakeJob(data: unknown, attemptsMade = 0, attempts = 3) {
  const progress: object[] = [];
  const logs: string[] = [];
  const job: IngestJobLike = {
    id: 'clickstream__2026-03-01',
    data,
    attemptsMade,
    opts: { attempts },
    updateProgress: async (p) => {
      progress.push(p);
    },
    log: async (line) => logs.push(line),
  };
  return { job, progress, logs };
}

function setup(source: Source, extra: { rateLimit?: (ms: number) => Promise<void>; clock?: () => number } = {}) {
  const events: AuditEventInput[] = [];
  const sources: Record<SourceName, Source> = { clickstream: source, products: source };
  const processor = createIngestProcessor({
    config,
    lake,
    sources,
    logger,
    audit: { emit: async (e) => events.push(e) },
    worker: 'host:1',
    queueSource: 'clickstream',
    ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
    ...(extra.clock ? { now: extra.clock } : {}),
  });
  return { processor, events };
}

const payload = { source: 'clickstream', date: '2026-03-01', trigger: 'manual' };

describe('the ingest processor (no queue)', () => {
  it('runs the source and records started, progress and committed, in the audit log and the job log', async () => {
    let t = 1_000_000;
    const clock = () => t;
    const { processor, events } = setup(
      async (ctx) => {
        expect(ctx).toMatchObject({ source: 'clickstream', date: '2026-03-01', jobId: 'clickstream__2026-03-01', attempt: 1 });
        t += 11_000; // a long ingest: progress goes to the job and, every 10 s, to the audit log
        ctx.progress({ rows: 500, bytes: 10_000 });
        t += 2_000;
        return { status: 'committed', version: 3, records: 1000, rejected: 2, files: 1, bytes: 20_000 };
      },
      { clock },
    );
    const { job, progress, logs } = fakeJob(payload);
    const result = await processor(job);
    expect(result).toEqual({ status: 'committed', version: 3, records: 1000, rejected: 2, files: 1, bytes: 20_000, source: 'clickstream', date: '2026-03-01', durationMs: 13_000 });
    expect(events.map((e) => e.type)).toEqual(['started', 'progress', 'committed']);
    expect(events[1]).toMatchObject({ rows: 500, bytes: 10_000, elapsedMs: 11_000, jobId: 'clickstream__2026-03-01', attempt: 1, worker: 'host:1' });
    expect(events[2]).toMatchObject({ version: 3, records: 1000, rejected: 2, files: 1, bytes: 20_000, durationMs: 13_000 });
    expect(logs.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['started', 'progress', 'committed']);
    expect(progress[0]).toEqual({ rows: 500, bytes: 10_000 });
    expect(progress.at(-1)).toEqual({ rows: 500, bytes: 10_000, done: true });
  });

  it('a retryable failure reports the delay it will wait, and BullMQ gets the same delay', async () => {
    const { processor, events } = setup(async () => {
      throw new TransientError('HTTP 502 from https://api.example.test/products');
    });
    const err = await processor(fakeJob(payload, 0, 3).job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableJobError);
    const scheduled = events.find((e) => e.type === 'retry-scheduled');
    expect(scheduled).toMatchObject({ errorClass: 'TransientError', error: 'HTTP 502 from https://api.example.test/products', nextAttempt: 2 });
    expect(scheduled?.delayMs).toBe((err as RetryableJobError).delayMs);
    expect((err as RetryableJobError).delayMs).toBeGreaterThanOrEqual(500);
    expect((err as RetryableJobError).delayMs).toBeLessThanOrEqual(1000);
    expect(events.find((e) => e.type === 'failed')).toMatchObject({ final: false, attempt: 1 });
  });

  it('the last attempt of a retryable failure fails for good', async () => {
    const { processor, events } = setup(async () => {
      throw new TransientError('timeout after 10000 ms');
    });
    const err = await processor(fakeJob(payload, 2, 3).job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toBe('timeout after 10000 ms');
    expect(events.map((e) => e.type)).toEqual(['started', 'failed']);
    expect(events[1]).toMatchObject({ final: true, attempt: 3 });
  });

  it('a non-retryable failure fails for good on the first attempt, with a one-line reason', async () => {
    const { processor } = setup(async () => {
      throw new SchemaMismatchError('a.csv line 1: unknown column "sku"\nexpected user_id,product_id,event_type,timestamp,device');
    });
    const err = await processor(fakeJob(payload, 0, 8).job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toBe('a.csv line 1: unknown column "sku" expected user_id,product_id,event_type,timestamp,device');
  });

  it('a long Retry-After hands the job back to the shared queue limiter instead of sleeping, and tells --wait where and when it resumes', async () => {
    const limited: number[] = [];
    const { processor, events } = setup(
      async () => {
        throw new RateLimitedError('HTTP 429 from the product API', { retryAfterMs: 45_000, resumeAtPage: 101 });
      },
      { rateLimit: async (ms) => void limited.push(ms), clock: () => 1_000_000 },
    );
    const { job, progress } = fakeJob(payload);
    const err = await processor(job).catch((e: unknown) => e);
    expect((err as Error).name).toBe('RateLimitError');
    expect(limited).toEqual([45_000]);
    expect(events.at(-1)).toMatchObject({ type: 'retry-scheduled', rateLimited: true, delayMs: 45_000 });
    expect(progress.at(-1)).toEqual({ rateLimited: { resumeAt: 1_045_000, resumeAtPage: 101 } });
  });

  it('refuses job data edited to another partition than its job id names', async () => {
    const { processor } = setup(async () => {
      throw new Error('unreachable');
    });
    const edited = fakeJob({ source: 'clickstream', date: '2026-03-02', trigger: 'manual' }).job; // id clickstream__2026-03-01
    const err = await processor(edited).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toBe('job data names clickstream 2026-03-02, but the job id "clickstream__2026-03-01" is for clickstream 2026-03-01');
  });

  it('refuses bad job data without running the source', async () => {
    let ran = false;
    const { processor, events } = setup(async () => {
      ran = true;
      throw new Error('unreachable');
    });
    const err = await processor(fakeJob({ source: 'clickstream', date: '2026-02-30', trigger: 'manual' }).job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect((err as Error).message).toBe('job data is invalid: date: must be a calendar date as YYYY-MM-DD, got "2026-02-30"');
    expect(ran).toBe(false);
    expect(events).toEqual([expect.objectContaining({ type: 'failed', final: true, errorClass: 'InvalidInputError' })]);
  });

  it('a 5 MB string in job data is echoed at most 200 characters long, with its length (finding 14)', async () => {
    const { processor, events } = setup(async () => {
      throw new Error('unreachable');
    });
    const huge = 'x'.repeat(5 * 1024 * 1024);
    for (const data of [{ ...payload, requestedBy: huge }, { ...payload, date: huge }, { ...payload, [huge]: 1 }]) {
      events.length = 0;
      const { job, logs } = fakeJob(data);
      const err = (await processor(job).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(UnrecoverableError);
      expect(err.message).toContain('(5,242,880 characters)');
      expect(err.message.length).toBeLessThan(400);
      const recorded = JSON.stringify(events) + logs.join('');
      expect(recorded.length, recorded.slice(0, 300)).toBeLessThan(1500);
    }
  });
});
