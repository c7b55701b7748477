// Backfill throughput with 1 and 2 real worker processes, and the per-job
// overhead of our pipeline against BullMQ no-op jobs, measured in the same run.
// Uses the BUILT packages (npm run bench builds first).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '@recomart/config';
import { addDays } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { createLogger } from '@recomart/logging';
import { createIngestQueues } from '@recomart/queue';
import { enqueuePartitions } from '@recomart/producer';
import { startMockProductApi } from '@recomart/mock-product-api';
import { startWorker } from '@recomart/worker';
import { dropPrefix } from './redis-keys.js';
import { spawnBenchWorker } from './worker-process.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function benchEnv(extra = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-bench-'));
  return {
    dataDir,
    env: { PATH: process.env.PATH, REDIS_URL, QUEUE_PREFIX: `bench-${randomBytes(4).toString('hex')}`, DATA_DIR: dataDir, LOG_LEVEL: 'warn', JOB_BACKOFF_MS: '100', ...extra },
  };
}

function spawnWorker(env, concurrency) {
  return spawnBenchWorker(env, ['--sources', 'products', '--concurrency', String(concurrency)]);
}

async function waitForCompleted(queue, n) {
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed');
    if (c.completed + c.failed >= n) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A `days`-day backfill of small product partitions with `workers` worker processes. */
async function backfillRun(apiUrl, days, workers, concurrency) {
  const { env, dataDir } = benchEnv({ PRODUCTS_API_URL: apiUrl, PRODUCTS_PAGE_SIZE: '100' });
  const config = loadConfig(env);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = createIngestQueues(redis, config);
  const procs = Array.from({ length: workers }, () => spawnWorker(env, concurrency));
  try {
    await Promise.all(procs.map((p) => p.ready));
    const lake = openLake({ dataDir });
    const partitions = Array.from({ length: days }, (_, i) => ({ source: 'products', date: addDays('2024-01-01', i) }));
    const t0 = performance.now();
    await enqueuePartitions(queues, lake, partitions, { trigger: 'backfill' });
    const counts = await waitForCompleted(queues.get('products'), days);
    const seconds = (performance.now() - t0) / 1000;
    if (counts.failed > 0) throw new Error(`${counts.failed} backfill jobs failed`);
    return { workers, concurrency, partitions: days, seconds, partitionsPerSecond: days / seconds };
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await Promise.all([...queues.values()].map((q) => q.close()));
    await dropPrefix(redis, config.queuePrefix);
    redis.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** ms per job of bare BullMQ no-op jobs vs our full pipeline with a trivial source, same concurrency, in-process. */
async function perJobOverhead(jobs, concurrency) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // 1. BullMQ no-op.
  const prefix = `bench-noop-${randomBytes(4).toString('hex')}`;
  const q = new Queue('noop', { connection: redis, prefix });
  await q.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } })));
  let done = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const w = new Worker('noop', async () => null, { connection: { url: REDIS_URL }, prefix, concurrency });
    w.on('completed', () => {
      if (++done === jobs) w.close().then(resolve, resolve);
    });
  });
  const noopMs = (performance.now() - t0) / jobs;
  await q.close();
  await dropPrefix(redis, prefix);

  // 2. Our worker: payload check, audit events, job log, progress, a one-file lake commit.
  const { env, dataDir } = benchEnv();
  const config = loadConfig(env);
  const logger = createLogger({ app: 'bench', level: 'warn' });
  const tiny = async (ctx) => {
    const s = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
    await s.writeFile('d.txt', 'bench', ctx.date);
    const r = await s.commit({ records: 1, rejected: 0, validation: {} });
    return { status: r.status, version: r.version, records: 1, rejected: 0, files: 1, bytes: 10 };
  };
  const running = await startWorker({ config, logger, registry: { clickstream: tiny, products: tiny }, sources: ['products'], concurrency, httpPort: null });
  const queues = createIngestQueues(redis, config);
  const lake = openLake({ dataDir });
  const t1 = performance.now();
  await enqueuePartitions(queues, lake, Array.from({ length: jobs }, (_, i) => ({ source: 'products', date: addDays('2000-01-01', i) })), { trigger: 'backfill' });
  await waitForCompleted(queues.get('products'), jobs);
  const oursMs = (performance.now() - t1) / jobs;
  await running.close(1000);
  await Promise.all([...queues.values()].map((x) => x.close()));
  await dropPrefix(redis, config.queuePrefix);
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  return { jobs, concurrency, bullmqNoopMsPerJob: noopMs, oursMsPerJob: oursMs, overheadMsPerJob: oursMs - noopMs };
}

export async function runBackfillBench({ days = 365, concurrency = 4, overheadJobs = 1000 } = {}) {
  const api = await startMockProductApi({ port: 0, products: 200, pagination: 'offset' });
  try {
    const one = await backfillRun(api.url, days, 1, concurrency);
    const two = await backfillRun(api.url, days, 2, concurrency);
    const overhead = await perJobOverhead(overheadJobs, concurrency);
    return { backfill: { one, two, scaling: two.partitionsPerSecond / one.partitionsPerSecond }, overhead };
  } finally {
    await api.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runBackfillBench({ days: Number(process.argv[2] ?? 365) });
  console.log(JSON.stringify(result, null, 2));
}
