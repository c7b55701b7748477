import { Redis } from 'ioredis';
import { Queue, QueueEvents } from 'bullmq';
import { ingestJobId, queueName, SOURCES, type SourceName } from '@recomart/jobs';
import type { Source } from '@recomart/sources';
import { startWorker, type RunningWorker, type StartWorkerOptions } from '@recomart/worker';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';

/** An in-process worker on a private prefix and temp DATA_DIR, with a queue and its events per source. */
export interface WorkerStand {
  readonly t: TestEnv;
  readonly redis: Redis;
  readonly running: RunningWorker;
  /** Adds one ingest job (a reprocess when `nonce` is given, one attempt) and resolves to how it ended. */
  run(source: SourceName, date: string, nonce?: string): Promise<'completed' | 'failed'>;
  close(): Promise<void>;
}

export async function startWorkerStand(
  name: string,
  registry: Readonly<Record<SourceName, Source>>,
  options: { env?: Record<string, string> } & Pick<StartWorkerOptions, 'httpPort' | 'concurrency' | 'now'> = {},
): Promise<WorkerStand> {
  const t = makeTestEnv(name, options.env);
  const redis = new Redis(t.config.redisUrl);
  const { env: _env, ...workerOptions } = options;
  const running = await startWorker({ config: t.config, logger: t.logger, registry, httpPort: null, ...workerOptions });
  const queues = new Map<SourceName, Queue>();
  const events = new Map<SourceName, QueueEvents>();
  for (const s of SOURCES) {
    queues.set(s, new Queue(queueName(s), { connection: redis, prefix: t.prefix }));
    const qe = new QueueEvents(queueName(s), { connection: { url: t.config.redisUrl }, prefix: t.prefix });
    await qe.waitUntilReady();
    events.set(s, qe);
  }
  return {
    t,
    redis,
    running,
    async run(source, date, nonce) {
      const job = await (queues.get(source) as Queue).add(
        'ingest',
        { source, date, trigger: 'manual' },
        { jobId: ingestJobId(source, date, nonce === undefined ? undefined : { nonce }), attempts: 1 },
      );
      return job.waitUntilFinished(events.get(source) as QueueEvents).then(
        () => 'completed' as const,
        () => 'failed' as const,
      );
    },
    async close() {
      await running.close(2000);
      await Promise.all([...events.values()].map((e) => e.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await dropPrefix(redis, t.prefix);
      redis.disconnect();
      t.cleanup();
    },
  };
}
