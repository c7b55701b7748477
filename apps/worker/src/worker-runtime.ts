import { describeConfig, type Config } from '@recomart/config';
import { queueName, SOURCES, type SourceName } from '@recomart/jobs';
import { lakeFreshness, openLake, type Lake } from '@recomart/lake';
import { RepeatLimitedLog, workerIdentity, type Logger } from '@recomart/logging';
import {
  AuditEmitter,
  checkPartitionZone,
  CommitFeed,
  connectGuarded,
  createIngestQueue,
  createProducerConnection,
  createWorkerConnection,
  ingestBackoff,
  RedisRequestBudget,
  requestBudgetKey,
  INGEST_BACKOFF,
  listFailedForGood,
  type IngestJobResult,
  type IngestQueue,
  redisTarget,
  watchPrimary,
} from '@recomart/queue';
import { sourceRegistry, type Source } from '@recomart/sources';
import { WaitingError, Worker } from 'bullmq';
import type { IngestPayload } from '@recomart/jobs';
import { announcingCommits } from './commit-announcing-lake.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { WorkerMetrics } from './metrics.js';
import { createIngestProcessor, RetryableJobError } from './processor.js';

export interface StartWorkerOptions {
  config: Config;
  logger: Logger;
  /** Sources to consume. @defaultValue every source */
  sources?: readonly SourceName[];
  /** Jobs at once per source queue. @defaultValue config.worker.concurrency */
  concurrency?: number;
  /** Health/metrics port; 0 picks a free one; null disables. @defaultValue config.worker.httpPort */
  httpPort?: number | null;
  /** Source implementations. @defaultValue the real registry */
  registry?: Readonly<Record<SourceName, Source>>;
  /** The clock of the lake freshness gauges. @defaultValue `() => new Date()` */
  now?: () => Date;
}

export interface RunningWorker {
  readonly workers: ReadonlyMap<SourceName, Worker<IngestPayload, IngestJobResult>>;
  readonly healthPort: number | undefined;
  readonly lake: Lake;
  /** Stops taking jobs, lets active ones finish for up to `graceMs`, then aborts them and closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts one worker process's consumers: Redis guard, lake staging sweep, one
 * BullMQ Worker per source queue, health and metrics.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, logger } = options;
  const sources = options.sources ?? SOURCES;
  const concurrency = options.concurrency ?? config.worker.concurrency;
  const identity = workerIdentity();

  const probe = createProducerConnection(redisTarget(config), 'recomart-worker-probe');
  try {
    await connectGuarded(probe, redisTarget(config), (m) => logger.warn({ event: 'redis-guard' }, m));
    // One partition day for every process: the zone the schedule stored.
    await checkPartitionZone(probe, config);
  } finally {
    probe.disconnect();
  }

  const lake = openLake({ dataDir: config.dataDir, url: config.lake.url, s3: { ...config.lake.s3, debug: (m) => logger.debug(m) } });
  const swept = await lake.sweep(config.lake.stagingMaxAgeMs);
  logger.info(
    // nodeFlags: what V8 runs this worker with (`recomart start` and the image set --max-semi-space-size).
    { event: 'worker-starting', worker: identity, sources, concurrency, sweptStaging: swept.removed.length, nodeFlags: process.execArgv, config: describeConfig(config) },
    'worker starting',
  );

  // Error handlers can fire in a tight loop (Redis out of memory: ~1,000 a second): identical lines are rate-limited.
  const errors = new RepeatLimitedLog(logger, { windowMs: config.log.repeatWindowMs });
  const connection = createWorkerConnection(redisTarget(config), 'recomart-worker');
  connection.on('error', (err: Error) => errors.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const audit = new AuditEmitter(connection, config.queuePrefix, config.audit.streamMaxLen);
  const feedingLake = announcingCommits(lake, new CommitFeed(connection, config.queuePrefix, config.lake.commitFeedMaxLen));
  const sentinel = config.redisSentinel;
  const stopWatchingPrimary = sentinel
    ? watchPrimary(connection, ({ from, to }) => {
        logger.warn({ event: 'redis-failover', from, to, primary: sentinel.name }, 'Redis primary moved (Sentinel failover): following it');
        audit.emit({ type: 'redis-failover', worker: identity, from, to, primary: sentinel.name }).catch((err: unknown) => {
          logger.warn({ err }, 'could not record the failover');
        });
      })
    : undefined;
  const queues = new Map<SourceName, IngestQueue>(sources.map((s) => [s, createIngestQueue(s, connection, config)]));
  const now = options.now ?? (() => new Date());
  const metrics = new WorkerMetrics(
    async () =>
      Promise.all(
        [...queues].map(async ([source, q]) => ({
          source,
          counts: await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
        })),
      ),
    () => listFailedForGood(queues, lake),
    () => lakeFreshness(lake, sources, { now: now(), timeZone: config.schedule.partitionTz, days: config.schedule.catchUpDays }),
  );
  const budgets =
    config.products.rateLimitPerSecond > 0
      ? { products: new RedisRequestBudget(connection, requestBudgetKey(config.queuePrefix, 'products'), config.products.rateLimitPerSecond) }
      : undefined;
  const shutdown = new AbortController();
  /**
   * Set when close() starts. BullMQ may still hand over a job it fetched in the
   * moment before its blocking wait was interrupted; such a job goes straight
   * back to the wait list untouched, for another worker.
   */
  let stopping = false;
  const workers = new Map<SourceName, Worker<IngestPayload, IngestJobResult>>();

  for (const source of sources) {
    const queue = queues.get(source) as IngestQueue;
    const processor = createIngestProcessor({
      config,
      lake: feedingLake,
      sources: options.registry ?? sourceRegistry,
      logger,
      audit,
      worker: identity,
      queueSource: source,
      metrics,
      shutdownSignal: shutdown.signal,
      ...(budgets ? { budgets } : {}),
      rateLimit: (ms) => queue.rateLimit(ms),
    });
    const worker = new Worker<IngestPayload, IngestJobResult>(
      queueName(source),
      async (job, token) => {
        if (stopping) {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        return processor(job);
      },
      {
      connection,
      prefix: config.queuePrefix,
      concurrency,
      lockDuration: config.worker.lockMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: config.worker.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) => {
          if (err instanceof RetryableJobError) return err.delayMs;
          if (type !== INGEST_BACKOFF) return config.jobs.backoffMs;
          return ingestBackoff(attemptsMade, config.jobs.backoffMs, err);
        },
      },
      },
    );
    worker.on('error', (err) => errors.error({ err: err.message, queue: queueName(source) }, 'worker error'));
    worker.on('stalled', (jobId: string, prev: string) => {
      logger.warn({ event: 'stalled', jobId, prev, source }, 'job stalled; it will be retried or failed by the stall limit');
      audit.emit({ type: 'stalled', jobId, source, worker: identity, previousState: prev }).catch((err: unknown) => {
        errors.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not record stalled event');
      });
    });
    workers.set(source, worker);
  }

  let health: HealthServer | undefined;
  const port = options.httpPort === undefined ? config.worker.httpPort : options.httpPort;
  if (port !== null) {
    health = await startHealthServer({
      port,
      registry: metrics.registry,
      healthy: async () => {
        const redis = await connection.ping().then(
          (r) => r === 'PONG',
          () => false,
        );
        const running = [...workers.values()].every((w) => w.isRunning());
        return { ok: redis && running, checks: { redis, workersRunning: running, worker: identity } };
      },
    });
  }
  logger.info({ event: 'worker-ready', worker: identity, healthPort: health?.port }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    workers,
    healthPort: health?.port,
    lake,
    close(graceMs = config.worker.shutdownGraceMs) {
      closing ??= (async () => {
        stopping = true;
        logger.info({ event: 'worker-stopping', graceMs }, 'worker stopping: no new jobs, waiting for active ones');
        const graceful = Promise.all([...workers.values()].map((w) => w.close()));
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          timer = setTimeout(() => resolve('expired'), graceMs);
        });
        const outcome = await Promise.race([graceful.then(() => 'done' as const), expired]);
        clearTimeout(timer);
        if (outcome === 'expired') {
          logger.warn({ event: 'worker-grace-expired' }, 'shutdown grace expired: aborting active jobs');
          shutdown.abort(new Error('worker shutting down'));
          const forced = setTimeout(() => {
            for (const w of workers.values()) w.close(true).catch(() => undefined);
          }, 5000);
          await graceful;
          clearTimeout(forced);
        }
        await Promise.allSettled([...queues.values()].map((q) => q.close()));
        await health?.close();
        stopWatchingPrimary?.();
        connection.disconnect();
        errors.close();
        logger.info({ event: 'worker-stopped' }, 'worker stopped');
      })();
      return closing;
    },
  };
}
