import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '@recomart/config';
import { addDays, type SourceName } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { createIngestQueueEvents, createIngestQueues, createWorkerConnection, type IngestQueue } from '@recomart/queue';
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

const DAYS = 60;
/** Completions after which Redis is restarted. */
const RESTART_AT = [10, 25, 40];
/**
 * Far above what recovery needs (a job whose lock was lost in a restart waits
 * for WORKER_LOCK_MS 5 s + WORKER_STALLED_INTERVAL_MS 2 s), so a busy machine
 * does not fail the test; the wait ends as soon as every job is complete.
 */
const DEADLINE_MS = 100_000;

/**
 * Why this test waits on the queue's event stream and not on the worker's
 * 'completed' events: a restart can land between Redis executing a job's
 * moveToFinished and its reply reaching the worker. ioredis re-sends the
 * unanswered script after reconnecting, the second run finds no lock
 * ("Missing lock for job … moveToFinished"), and the worker emits 'error'
 * instead of 'completed' although Redis holds the job as completed. When that
 * script had also fetched the next job, that job stays active until its lock
 * expires and stall recovery hands it out again. Both are at-least-once
 * delivery working as designed; a test counting the worker's own events then
 * waits forever. The event stream is written by the same Lua script that
 * moves the job, and survives the restart (AOF).
 */
describe('Redis restarted while workers run', () => {
  let redis: PrivateRedis;
  let t: TestEnv;
  let running: RunningWorker | undefined;
  let conn: Redis | undefined;
  let eventsConn: Redis | undefined;
  let events: QueueEvents | undefined;
  let queues: Map<SourceName, IngestQueue> | undefined;

  beforeAll(async () => {
    redis = await startPrivateRedis({ appendonly: true });
    t = makeTestEnv('restart', { REDIS_URL: redis.url, JOB_ATTEMPTS: '10', JOB_BACKOFF_MS: '20' });
  });
  afterAll(async () => {
    await running?.close(2000);
    await events?.close();
    await Promise.all([...(queues?.values() ?? [])].map((q) => q.close()));
    conn?.disconnect();
    eventsConn?.disconnect();
    await redis.dispose();
    t.cleanup();
  });

  it('workers reconnect by themselves and finish the backlog', async () => {
    const config = loadConfig(t.env);
    conn = createWorkerConnection(redis.url);
    conn.on('error', () => undefined);
    queues = createIngestQueues(conn, config);
    const queue = queues.get('products') as IngestQueue;
    const lake = openLake({ dataDir: t.dataDir });
    const dates = Array.from({ length: DAYS }, (_, i) => addDays('2025-01-01', i));
    eventsConn = createWorkerConnection(redis.url);
    eventsConn.on('error', () => undefined);
    events = createIngestQueueEvents('products', eventsConn, config, '0');
    events.on('error', () => undefined);
    await events.waitUntilReady();

    const summary = await enqueuePartitions(queues, lake, dates.map((date) => ({ source: 'products' as const, date })), { trigger: 'backfill' });
    expect(summary.added).toHaveLength(DAYS);

    const done = new Set<string>();
    const workerErrors: string[] = [];
    let restarts = 0;
    let completedAfterLastRestart = 0;
    let restarting: Promise<void> = Promise.resolve();
    const finished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed').then((counts) => {
          const missing = dates.filter((d) => !done.has(`products__${d}`));
          reject(new Error(`after ${DEADLINE_MS} ms: ${done.size}/${DAYS} completed, ${restarts} restarts; counts ${JSON.stringify(counts)}; missing ${missing.join(', ')}; worker errors: ${workerErrors.slice(-10).join(' | ')}`));
        }, reject);
      }, DEADLINE_MS);
      (events as QueueEvents).on('completed', ({ jobId }) => {
        done.add(jobId);
        if (restarts === RESTART_AT.length) completedAfterLastRestart++;
        if (restarts < RESTART_AT.length && done.size >= (RESTART_AT[restarts] as number)) {
          restarts++;
          restarting = restarting.then(() => redis.restart());
          restarting.catch(reject);
        }
        if (done.size === DAYS) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    running = await startWorker({ config, logger: t.logger, registry: { clickstream: source, products: source }, concurrency: 2, httpPort: null, sources: ['products'] });
    running.workers.get('products')?.on('error', (err) => workerErrors.push(err.message));
    await finished;
    await restarting;

    expect(restarts).toBe(RESTART_AT.length);
    // The worker went on consuming after the last restart by itself.
    expect(completedAfterLastRestart).toBeGreaterThan(0);
    expect((await lake.listPartitions('products')).length).toBe(DAYS);
    // Every partition has exactly one version and verifies.
    for (const d of dates) expect(await lake.listVersions('products', d), d).toEqual([1]);
    expect((await lake.verify()).ok).toBe(true);
    // Nothing acknowledged before a restart was lost: the queue accounts for all of them.
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    expect(counts).toMatchObject({ completed: DAYS, failed: 0, waiting: 0, active: 0, delayed: 0 });
  }, DEADLINE_MS + 20_000);
});
