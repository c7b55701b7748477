import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { openLake } from '@recomart/lake';
import { createIngestQueues, type IngestQueue } from '@recomart/queue';
import { backfillCommand, enqueueCommand, enqueuePartitions } from '@recomart/producer';
import { queueName, type SourceName } from '@recomart/jobs';
import { UnrecoverableError, Worker } from 'bullmq';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { restoreClock, shiftClock } from '../../../test/helpers/shifted-clock.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';

describe('backfill and enqueue', () => {
  let t: TestEnv;
  let redis: Redis;
  let queues: Map<SourceName, IngestQueue>;

  beforeAll(async () => {
    t = makeTestEnv('backfill', { BACKFILL_MAX_DAYS: '100' });
    redis = new Redis(t.config.redisUrl);
    queues = createIngestQueues(redis, t.config);
    const lake = openLake({ dataDir: t.dataDir });
    const s = await lake.begin({ source: 'clickstream', date: '2025-03-02', runId: 'seed', jobId: 'seed', attempt: 1 });
    await s.writeFile('a.csv', 'seed', 'user_id,product_id,event_type,timestamp,device\n');
    await s.commit({ records: 0, rejected: 0, validation: {} });
  });
  afterAll(async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });

  it('--dry-run says what would happen and enqueues nothing', async () => {
    const io = captureIo(t.env);
    expect(await backfillCommand.run(['--source', 'all', '--from', '2025-03-01', '--to', '2025-03-05', '--dry-run', '--json'], io)).toBe(0);
    const summary = JSON.parse(io.out()) as { added: string[]; inLake: unknown[] };
    expect(summary.added).toHaveLength(9);
    expect(summary.inLake).toEqual([{ source: 'clickstream', date: '2025-03-02' }]);
    expect(io.err()).toContain('would enqueue 9 new · 0 already queued · 1 already in the lake');
    expect(await queues.get('clickstream')?.count()).toBe(0);
  });

  it('enqueues each partition once, skipping what the lake has', async () => {
    const io = captureIo(t.env);
    expect(await backfillCommand.run(['--source', 'all', '--from', '2025-03-01', '--to', '2025-03-05'], io)).toBe(0);
    expect(io.err()).toContain('enqueued 9 new · 0 already queued · 1 already in the lake');
    const again = captureIo(t.env);
    expect(await backfillCommand.run(['--source', 'clickstream', '--from', '2025-03-01', '--to', '2025-03-06'], again)).toBe(0);
    expect(again.err()).toContain('enqueued 1 new · 4 already queued · 1 already in the lake');
    const waiting = await queues.get('clickstream')?.getWaiting();
    expect(waiting?.map((j) => j.id).sort()).toEqual(['2025-03-01', '2025-03-03', '2025-03-04', '2025-03-05', '2025-03-06'].map((d) => `clickstream__${d}`));
    expect(waiting?.[0]?.data.trigger).toBe('backfill');
  });

  it('--reprocess enqueues partitions the lake has, under a distinct job id', async () => {
    const lake = openLake({ dataDir: t.dataDir });
    const summary = await enqueuePartitions(queues, lake, [{ source: 'clickstream', date: '2025-03-02' }], { trigger: 'manual', reprocess: true });
    expect(summary.added).toHaveLength(1);
    expect(summary.added[0]).toMatch(/^clickstream__2025-03-02__r[a-z0-9]+$/);
  });

  it('a partition whose earlier job failed for good is left with its reason, not enqueued again, until --reprocess', async () => {
    const t2 = makeTestEnv('requeue');
    const conn = new Redis(t2.config.redisUrl, { maxRetriesPerRequest: null });
    const qs = createIngestQueues(conn, t2.config);
    const q = qs.get('products') as IngestQueue;
    // A worker whose only job fails for good, as "not arrived" does after its last attempt.
    const worker = new Worker(queueName('products'), async () => {
      throw new UnrecoverableError('no files for 2025-05-01 yet');
    }, { connection: conn, prefix: t2.prefix });
    try {
      const failed = new Promise<void>((resolve) => worker.on('failed', () => resolve()));
      await q.add('ingest', { source: 'products', date: '2025-05-01', trigger: 'schedule' }, { jobId: 'products__2025-05-01' });
      await failed;
      await worker.close();
      expect(await q.getJobState('products__2025-05-01')).toBe('failed');
      const lake = openLake({ dataDir: t2.dataDir });
      for (const trigger of ['catch-up', 'schedule', 'manual', 'backfill'] as const) {
        const summary = await enqueuePartitions(qs, lake, [{ source: 'products', date: '2025-05-01' }], { trigger });
        expect(summary.added).toEqual([]);
        expect(summary.failedForGood).toMatchObject([{ jobId: 'products__2025-05-01', reason: 'no files for 2025-05-01 yet' }]);
      }
      const job = await q.getJob('products__2025-05-01');
      expect([await job?.getState(), job?.failedReason, job?.data.trigger]).toEqual(['failed', 'no files for 2025-05-01 yet', 'schedule']);
      const io = captureIo(t2.env);
      expect(await enqueueCommand.run(['--source', 'products', '--date', '2025-05-01'], io)).toBe(0);
      expect(io.err()).toContain('left products__2025-05-01: it failed for good (no files for 2025-05-01 yet); retry it on the board, or enqueue --reprocess');
      const reprocessed = await enqueuePartitions(qs, lake, [{ source: 'products', date: '2025-05-01' }], { trigger: 'manual', reprocess: true });
      expect(reprocessed.added).toHaveLength(1);
    } finally {
      await worker.close();
      await Promise.all([...qs.values()].map((x) => x.close()));
      await dropPrefix(conn, t2.prefix);
      conn.disconnect();
      t2.cleanup();
    }
  });

  it('100 concurrent enqueues of one partition make one job', async () => {
    const lake = openLake({ dataDir: t.dataDir });
    await Promise.all(Array.from({ length: 100 }, () => enqueuePartitions(queues, lake, [{ source: 'products', date: '2025-04-01' }], { trigger: 'manual' })));
    const jobs = (await queues.get('products')?.getJobs(['waiting', 'delayed', 'active'])) ?? [];
    expect(jobs.filter((j) => j.id === 'products__2025-04-01')).toHaveLength(1);
    expect(jobs.filter((j) => j.data.date === '2025-04-01')).toHaveLength(1);
  });

  it('refuses bad ranges with exact messages (exit 2 via UsageError)', async () => {
    const io = captureIo(t.env);
    await expect(backfillCommand.run(['--source', 'products', '--from', '2025-03-05', '--to', '2025-03-01'], io)).rejects.toThrow('--from 2025-03-05 is after --to 2025-03-01');
    await expect(backfillCommand.run(['--source', 'products', '--from', '2025-01-01', '--to', '2025-12-31'], io)).rejects.toThrow(
      'the range 2025-01-01..2025-12-31 has 365 days, more than the limit of 100 (BACKFILL_MAX_DAYS)',
    );
    await expect(enqueueCommand.run(['--source', 'products'], io)).rejects.toThrow('--date is required (YYYY-MM-DD)');
    await expect(enqueueCommand.run(['--source', 'products', '--date', '2099-01-01'], io)).rejects.toThrow(/^--date 2099-01-01 is in the future \(today is \d{4}-\d{2}-\d{2} in UTC, PARTITION_TZ\)$/);
    await expect(enqueueCommand.run(['--source', 'products', '--date', '1969-12-31'], io)).rejects.toThrow('--date must be from 1970-01-01 to 9999-12-31, got "1969-12-31"');
    await expect(backfillCommand.run(['--source', 'all', '--from', '2025-01-01', '--to', '2034-02-01'], io)).rejects.toThrow(/^--to 2034-02-01 is in the future/);
  });

  it('checks every argument before connecting: with Redis unreachable, a bad range is still bad usage', async () => {
    const io = captureIo({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1' });
    await expect(backfillCommand.run(['--source', 'products', '--from', '2026-11-10', '--to', '2026-11-01'], io)).rejects.toThrow('--from 2026-11-10 is after --to 2026-11-01');
    await expect(enqueueCommand.run(['--source', 'products', '--date', '2099-01-01'], io)).rejects.toThrow(/^--date 2099-01-01 is in the future/);
  });

  it('the future-date check uses the partition day (PARTITION_TZ), not the schedule\'s zone', async () => {
    // 12:00Z on 12-02 is already 02:00 on 12-03 in Kiritimati (UTC+14): 12-03 is not a day the lake can have yet.
    shiftClock(Date.parse('2026-12-02T12:00:00Z'));
    try {
      const io = captureIo({ ...t.env, REDIS_URL: 'redis://127.0.0.1:1', SCHEDULE_TZ: 'Pacific/Kiritimati' });
      await expect(enqueueCommand.run(['--source', 'clickstream', '--date', '2026-12-03'], io)).rejects.toThrow('--date 2026-12-03 is in the future (today is 2026-12-02 in UTC, PARTITION_TZ)');
    } finally {
      restoreClock();
    }
  });
});
