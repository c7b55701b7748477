import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { QueueEvents } from 'bullmq';
import { addDays, queueName, type SourceName } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { auditStreamKey, createIngestQueues, type IngestQueue } from '@recomart/queue';
import { startedWorkerPid } from '../helpers/audit-tail.js';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { runRecomart } from '../helpers/run-cli.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../helpers/test-env.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../helpers/worker-processes.js';

const FROM = '2026-01-01';
const DAYS = 60;
const TO = addDays(FROM, DAYS - 1);

describe('three worker processes, a 60-day backfill of both sources', () => {
  let t: TestEnv;
  let api: MockApiHandle;
  let redis: Redis;
  let queues: Map<SourceName, IngestQueue>;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    api = await startMockProductApi({ port: 0, products: 250, seed: 'e2e' });
    t = makeTestEnv('e2e', { PRODUCTS_API_URL: api.url, PRODUCTS_PAGE_SIZE: '100', JOB_ATTEMPTS: '5', JOB_BACKOFF_MS: '100', WORKER_LOCK_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' });
    redis = new Redis(t.config.redisUrl);
    queues = createIngestQueues(redis, t.config);
    const gen = await runRecomart(['generate', '--from', FROM, '--to', TO, '--rows-per-day', '500', '--seed', 'e2e'], t.env, { timeoutMs: 120_000 });
    expect(gen.code, gen.stderr).toBe(0);
  });
  afterAll(async () => {
    await stopWorkers(workers);
    await Promise.all([...(queues?.values() ?? [])].map((q) => q.close()));
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    await api.close();
    t.cleanup();
  });

  it('commits every partition exactly once, verifies, and completes each job once', async () => {
    workers = [0, 1, 2].map(() => spawnWorker(t.env, ['--concurrency', '2']));
    await Promise.all(workers.map((w) => w.ready));
    const backfill = await runRecomart(['backfill', '--source', 'all', '--from', FROM, '--to', TO, '--wait'], t.env, { timeoutMs: 240_000 });
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.stderr).toContain(`enqueued ${DAYS * 2} new · 0 already queued · 0 already in the lake`);

    const lake = openLake({ dataDir: t.dataDir });
    for (const source of ['clickstream', 'products'] as const) {
      const dates = await lake.listPartitions(source);
      expect(dates).toHaveLength(DAYS);
      for (const d of dates) expect(await lake.listVersions(source, d), `${source} ${d}`).toEqual([1]);
      const completed = (await queues.get(source)?.getCompleted(0, -1)) ?? [];
      const ids = completed.map((j) => j.id);
      expect(new Set(ids).size).toBe(DAYS);
      expect(ids).toHaveLength(DAYS);
    }
    const verify = await runRecomart(['lake', 'verify'], t.env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // The work was shared: more than one worker process committed something.
    const committers = new Set<number>();
    for (const source of ['clickstream', 'products'] as const) {
      for (const d of await lake.listPartitions(source)) committers.add((await lake.readManifest(source, d))?.worker.pid ?? -1);
    }
    expect(committers.size).toBeGreaterThan(1);
  });

  it('SIGKILL of the worker writing a partition: another worker recovers the job, nothing partial is visible', async () => {
    const date = '2026-05-01';
    const gen = await runRecomart(['generate', '--from', date, '--to', date, '--rows-per-day', '300000', '--files-per-day', '3', '--seed', 'big'], t.env, { timeoutMs: 120_000 });
    expect(gen.code, gen.stderr).toBe(0);
    const stream = auditStreamKey(t.prefix);
    const reader = new Redis(t.config.redisUrl);
    const events = new QueueEvents(queueName('clickstream'), { connection: { url: t.config.redisUrl }, prefix: t.prefix });
    await events.waitUntilReady();
    try {
      const [lastId] = ((await reader.xrevrange(stream, '+', '-', 'COUNT', 1))[0] ?? ['0-0']) as [string];
      const jobId = `clickstream__${date}`;
      const enq = await runRecomart(['enqueue', '--source', 'clickstream', '--date', date], t.env);
      expect(enq.code, enq.stderr).toBe(0);

      // Wait for the 'started' event of the job, then kill that worker process.
      const victimPid = await startedWorkerPid(reader, stream, lastId, jobId);
      const victim = workers.find((w) => w.pid === victimPid);
      expect(victim).toBeDefined();
      victim?.child.kill('SIGKILL');
      await victim?.exited;

      const job = await queues.get('clickstream')?.getJob(jobId);
      const result = await job?.waitUntilFinished(events, 120_000);
      expect(result).toMatchObject({ status: 'committed', version: 1 });
      const lake = openLake({ dataDir: t.dataDir });
      expect(await lake.listVersions('clickstream', date)).toEqual([1]);
      const manifest = await lake.readManifest('clickstream', date);
      expect(manifest?.worker.pid).not.toBe(victimPid);
      expect(manifest?.records).toBeGreaterThan(0);
      const verify = await runRecomart(['lake', 'verify', '--source', 'clickstream'], t.env);
      expect(verify.code, verify.stdout).toBe(0);
    } finally {
      await events.close();
      reader.disconnect();
    }
  });
});
