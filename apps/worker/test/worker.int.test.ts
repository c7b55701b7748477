import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue, QueueEvents } from 'bullmq';
import { NotArrivedError, queueName, SchemaMismatchError, TransientError, type SourceName } from '@recomart/jobs';
import { auditStreamKey, AUDIT_STREAM_FIELD, type IngestJobResult } from '@recomart/queue';
import type { Source, SourceContext } from '@recomart/sources';
import type { AuditEvent } from '@recomart/logging';
import { startWorker, type RunningWorker } from '@recomart/worker';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';

/** A source that writes one small file whose content depends on the date (and a version knob). */
function fileSource(content: (ctx: SourceContext) => string): Source {
  return async (ctx) => {
    const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
    try {
      const body = content(ctx);
      ctx.progress({ bytes: body.length, rows: 1 });
      await session.writeFile('data.txt', `test://${ctx.date}`, body);
      const r = await session.commit({ records: 1, rejected: 0, validation: {} });
      return { status: r.status, version: r.version, records: 1, rejected: 0, files: 1, bytes: body.length };
    } catch (err) {
      await session.abort();
      throw err;
    }
  };
}

async function auditEvents(redis: Redis, prefix: string): Promise<AuditEvent[]> {
  const entries = await redis.xrange(auditStreamKey(prefix), '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf(AUDIT_STREAM_FIELD) + 1] as string) as AuditEvent);
}

describe('worker: queue → source → lake', () => {
  let t: TestEnv;
  let redis: Redis;
  let running: RunningWorker | undefined;
  const queues: Queue[] = [];
  const events: QueueEvents[] = [];
  let flaky = 0;
  let arrived = false;

  const registry: Record<SourceName, Source> = {
    clickstream: fileSource((ctx) => `clicks for ${ctx.date}\n`),
    products: async (ctx) => {
      if (ctx.date === '2026-01-03' && flaky++ < 2) throw new TransientError('HTTP 503 from the product API');
      if (ctx.date === '2026-01-04') throw new SchemaMismatchError('bad.csv line 1: expected header user_id,product_id,event_type,timestamp,device');
      if (ctx.date === '2026-01-05' && !arrived) throw new NotArrivedError('no files yet');
      return fileSource((c) => `products for ${c.date}\n`)(ctx);
    },
  };

  beforeAll(async () => {
    t = makeTestEnv('worker');
    redis = new Redis(t.config.redisUrl);
    running = await startWorker({ config: t.config, logger: t.logger, registry, httpPort: 0 });
    for (const s of ['clickstream', 'products'] as const) {
      queues.push(new Queue(queueName(s), { connection: redis, prefix: t.prefix }));
      const qe = new QueueEvents(queueName(s), { connection: { url: t.config.redisUrl }, prefix: t.prefix });
      await qe.waitUntilReady();
      events.push(qe);
    }
  });
  afterAll(async () => {
    await running?.close(2000);
    await Promise.all(events.map((e) => e.close()));
    await Promise.all(queues.map((q) => q.close()));
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });

  const [clickQ, productQ] = [() => queues[0] as Queue, () => queues[1] as Queue];
  const [clickEv, productEv] = [() => events[0] as QueueEvents, () => events[1] as QueueEvents];

  it('commits a partition and reports it in the job result and the audit stream', async () => {
    const job = await clickQ().add('ingest', { source: 'clickstream', date: '2026-01-01', trigger: 'manual' }, { jobId: 'clickstream__2026-01-01', attempts: 3 });
    const result = (await job.waitUntilFinished(clickEv())) as IngestJobResult;
    expect(result).toMatchObject({ status: 'committed', version: 1, source: 'clickstream', date: '2026-01-01', records: 1 });
    const manifest = await running?.lake.readManifest('clickstream', '2026-01-01');
    expect(manifest?.jobId).toBe('clickstream__2026-01-01');
    expect(manifest?.attempt).toBe(1);
    const mine = (await auditEvents(redis, t.prefix)).filter((e) => e.jobId === 'clickstream__2026-01-01');
    expect(mine.map((e) => e.type)).toEqual(['started', 'committed']);
    expect(mine[1]).toMatchObject({ version: 1, records: 1, source: 'clickstream', date: '2026-01-01', attempt: 1 });
    expect(typeof mine[1]?.worker).toBe('string');
    const logs = await clickQ().getJobLogs('clickstream__2026-01-01');
    expect(logs.logs.map((l) => JSON.parse(l).type)).toEqual(['started', 'committed']);
  });

  it('the same content again commits "unchanged", not a new version', async () => {
    const job = await clickQ().add('ingest', { source: 'clickstream', date: '2026-01-01', trigger: 'manual' }, { jobId: 'clickstream__2026-01-01__ragain', attempts: 3 });
    const result = (await job.waitUntilFinished(clickEv())) as IngestJobResult;
    expect(result).toMatchObject({ status: 'unchanged', version: 1 });
    expect(await running?.lake.listVersions('clickstream', '2026-01-01')).toEqual([1]);
  });

  it('retries a transient failure with backoff and then commits', async () => {
    const job = await productQ().add('ingest', { source: 'products', date: '2026-01-03', trigger: 'backfill' }, { jobId: 'products__2026-01-03', attempts: 3, backoff: { type: 'ingest', delay: 20 } });
    const result = (await job.waitUntilFinished(productEv())) as IngestJobResult;
    expect(result.status).toBe('committed');
    const mine = (await auditEvents(redis, t.prefix)).filter((e) => e.jobId === 'products__2026-01-03');
    expect(mine.map((e) => e.type)).toEqual(['started', 'failed', 'retry-scheduled', 'started', 'failed', 'retry-scheduled', 'started', 'committed']);
    expect(mine[1]).toMatchObject({ errorClass: 'TransientError', error: 'HTTP 503 from the product API', final: false, attempt: 1 });
    expect(mine[7]).toMatchObject({ attempt: 3 });
  });

  it('a schema mismatch fails for good on the first attempt with a one-line reason', async () => {
    const job = await productQ().add('ingest', { source: 'products', date: '2026-01-04', trigger: 'manual' }, { jobId: 'products__2026-01-04', attempts: 5 });
    await expect(job.waitUntilFinished(productEv())).rejects.toThrow('bad.csv line 1: expected header');
    const failed = await productQ().getJob('products__2026-01-04');
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toBe('bad.csv line 1: expected header user_id,product_id,event_type,timestamp,device');
    expect(await running?.lake.listVersions('products', '2026-01-04')).toEqual([]);
  });

  it('"not arrived yet" is retried until the data is there', async () => {
    const job = await productQ().add('ingest', { source: 'products', date: '2026-01-05', trigger: 'schedule' }, { jobId: 'products__2026-01-05', attempts: 5, backoff: { type: 'ingest', delay: 20 } });
    const retried = new Promise<void>((resolve) => {
      const onDelayed = ({ jobId }: { jobId: string }) => {
        if (jobId === 'products__2026-01-05') {
          arrived = true;
          productEv().off('delayed', onDelayed);
          resolve();
        }
      };
      productEv().on('delayed', onDelayed);
    });
    await retried;
    const result = (await job.waitUntilFinished(productEv())) as IngestJobResult;
    expect(result.status).toBe('committed');
  });

  it('job data edited into garbage fails for good without touching the lake', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['bad-source', { source: '../../etc', date: '2026-01-01', trigger: 'manual' }, 'job data is invalid: source: must be one of clickstream, products, got "../../etc"'],
      ['bad-date', { source: 'clickstream', date: '2024-02-30', trigger: 'manual' }, 'job data is invalid: date: must be a calendar date as YYYY-MM-DD, got "2024-02-30"'],
      ['extra', { source: 'clickstream', date: '2026-01-02', trigger: 'manual', path: '/etc/passwd' }, 'job data is invalid: unknown field(s) path'],
      ['types', { source: 'clickstream', date: 20260102, trigger: 'manual' }, 'job data is invalid: date: Invalid input: expected string, received number, got 20260102'],
      ['other-queue', { source: 'products', date: '2026-01-02', trigger: 'manual' }, 'job data names source "products", but the job is in the clickstream queue (ingest-clickstream)'],
    ];
    for (const [id, data, reason] of cases) {
      const job = await clickQ().add('ingest', data, { jobId: id, attempts: 5 });
      await expect(job.waitUntilFinished(clickEv())).rejects.toThrow();
      const failed = await clickQ().getJob(id);
      expect(failed?.failedReason).toBe(reason);
      expect(failed?.attemptsMade).toBe(1);
    }
    expect(await running?.lake.listPartitions('clickstream')).toEqual(['2026-01-01']);
  });

  it('serves health and Prometheus metrics', async () => {
    const base = `http://127.0.0.1:${running?.healthPort}`;
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, checks: { redis: true, workersRunning: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/recomart_jobs_total\{source="clickstream",outcome="committed"\} 1/);
    expect(metrics).toMatch(/recomart_queue_jobs\{source="products",state="failed"\} 1/);
    // Failed for good and not in the lake: waiting for an operator.
    expect(metrics).toMatch(/recomart_partitions_failed_for_good\{source="products"\} 1/);
    expect(metrics).toContain('recomart_ingested_bytes_total');
  });
});
