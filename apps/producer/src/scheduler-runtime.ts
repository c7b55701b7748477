import { SCHEDULE_QUEUE } from '@recomart/jobs';
import { createWorkerConnection } from '@recomart/queue';
import { Worker } from 'bullmq';
import type { ProducerContext } from './producer-context.js';
import type { TickData } from './scheduler-setup.js';
import { createTickProcessor, type TickResult } from './tick-processor.js';

/** The scheduler process: consumes ticks and turns each into ingest jobs (plus catch-up). */
export function startTickWorker(ctx: ProducerContext): { worker: Worker<TickData, TickResult>; close(): Promise<void> } {
  const connection = createWorkerConnection(ctx.config.redisUrl, 'recomart-scheduler');
  connection.on('error', (err: Error) => ctx.logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const processor = createTickProcessor({ config: ctx.config, lake: ctx.lake, queues: ctx.queues, logger: ctx.logger });
  const worker = new Worker<TickData, TickResult>(SCHEDULE_QUEUE, (job) => processor(job), {
    connection,
    prefix: ctx.config.queuePrefix,
    concurrency: 1,
  });
  worker.on('error', (err) => ctx.logger.error({ err: err.message }, 'scheduler worker error'));
  worker.on('failed', (job, err) => ctx.logger.error({ jobId: job?.id, err: err.message }, 'tick failed'));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
