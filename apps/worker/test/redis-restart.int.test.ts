import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '@recomart/config';
import { addDays, type SourceName } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { createIngestQueues, type IngestQueue } from '@recomart/queue';
import { enqueuePartitions } from '@recomart/producer';
import type { Source } from '@recomart/sources';
import { startWorker, type RunningWorker } from '@recomart/worker';
import { startPrivateRedis, type PrivateRedis } from '../../../test/helpers/private-redis.js';
import { makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';

const source: Source = async (ctx) => {
  const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
  try {
    await session.writeFile('d.txt', 'test', `${ctx.source} ${ctx.date}\n`);
    const r = await session.commit({ records: 1, rejected: 0, validation: {} });
    return { status: r.status, version: r.version, records: 1, rejected: 0, files: 1, bytes: 10 };
  } catch (err) {
    await session.abort();
    throw err;
  }
};

describe('Redis restarted while workers run', () => {
  let redis: PrivateRedis;
  let t: TestEnv;
  let running: RunningWorker;
  let producer: Redis;
  let queues: Map<SourceName, IngestQueue>;

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendonly: true });
    t = makeTestEnv('restart', { REDIS_URL: redis.url, JOB_ATTEMPTS: '10', JOB_BACKOFF_MS: '20' });
  });
  afterAll(async () => {
    await running?.close(2000);
    await Promise.all([...(queues?.values() ?? [])].map((q) => q.close()));
    producer?.disconnect();
    await redis.dispose();
    t.cleanup();
  });

  it('workers reconnect by themselves and finish the backlog', async () => {
    const config = loadConfig(t.env);
    producer = new Redis(redis.url, { maxRetriesPerRequest: null });
    producer.on('error', () => undefined);
    queues = createIngestQueues(producer, config);
    const lake = openLake({ dataDir: t.dataDir });
    const dates = Array.from({ length: 60 }, (_, i) => addDays('2025-01-01', i));
    const summary = await enqueuePartitions(queues, lake, dates.map((date) => ({ source: 'products' as const, date })), { trigger: 'backfill' });
    expect(summary.added).toHaveLength(60);

    running = await startWorker({ config, logger: t.logger, registry: { clickstream: source, products: source }, concurrency: 2, httpPort: null, sources: ['products'] });
    const worker = running.workers.get('products');
    const done = new Set<string>();
    let restarted = false;
    await new Promise<void>((resolve, reject) => {
      worker?.on('completed', (job) => {
        done.add(job.data.date);
        if (done.size === 10 && !restarted) {
          restarted = true;
          redis.restart().catch(reject);
        }
        if (done.size === 60) resolve();
      });
    });
    expect(restarted).toBe(true);
    expect((await lake.listPartitions('products')).length).toBe(60);
    // Every partition has exactly one version and verifies.
    for (const d of dates) expect(await lake.listVersions('products', d)).toEqual([1]);
    expect((await lake.verify()).ok).toBe(true);
    // Nothing acknowledged before the restart was lost: the queue accounts for all 60.
    const counts = await queues.get('products')?.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    expect(counts).toMatchObject({ completed: 60, failed: 0, waiting: 0, active: 0, delayed: 0 });
  });
});
