import { SCHEDULE_QUEUE, SOURCES } from '@recomart/jobs';
import { createWorkerConnection, tickRepeatStrategy, redisTarget } from '@recomart/queue';
import { Worker } from 'bullmq';
import { catchUp } from './catch-up.js';
import { reportFailedForGood } from './failed-partitions.js';
import type { ProducerContext } from './producer-context.js';
import { requireScheduleSettings } from '@recomart/queue';
import { repairSchedulers } from './scheduler-watch.js';
import type { TickData } from './scheduler-setup.js';
import { createTickProcessor, type TickResult } from './tick-processor.js';

/**
 * One watch round of the scheduler process: repair stuck schedulers, then
 * catch up from today with the stored settings (failed-for-good partitions reported).
 */
export async function watchRound(ctx: ProducerContext, nowMs: number): Promise<{ repaired: string[]; caughtUp: string[] }> {
  const repaired = await repairSchedulers(ctx.tickQueue, nowMs, ctx.logger);
  const settings = await requireScheduleSettings(ctx.connection, ctx.config.queuePrefix);
  const summary = await catchUp(ctx.queues, ctx.lake, SOURCES, nowMs, settings.partitionTz, settings.catchUpDays);
  await reportFailedForGood(summary.failedForGood, ctx.audit, ctx.logger);
  if (summary.added.length > 0) ctx.logger.info({ event: 'catch-up', added: summary.added }, `caught up ${summary.added.length} partition(s)`);
  return { repaired, caughtUp: summary.added };
}

/**
 * The scheduler process: consumes ticks and turns each into ingest jobs (plus
 * catch-up), computing next fire times with `tickRepeatStrategy`, and every
 * SCHEDULE_WATCH_INTERVAL_MS runs a `watchRound`.
 */
export function startTickWorker(ctx: ProducerContext): { worker: Worker<TickData, TickResult>; close(): Promise<void> } {
  const connection = createWorkerConnection(redisTarget(ctx.config), 'recomart-scheduler');
  connection.on('error', (err: Error) => ctx.logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const processor = createTickProcessor({
    lake: ctx.lake,
    queues: ctx.queues,
    logger: ctx.logger,
    audit: ctx.audit,
    settings: () => requireScheduleSettings(ctx.connection, ctx.config.queuePrefix),
  });
  const worker = new Worker<TickData, TickResult>(SCHEDULE_QUEUE, (job) => processor(job), {
    connection,
    prefix: ctx.config.queuePrefix,
    concurrency: 1,
    settings: { repeatStrategy: tickRepeatStrategy },
  });
  worker.on('error', (err) => ctx.logger.error({ err: err.message }, 'scheduler worker error'));
  worker.on('failed', (job, err) => ctx.logger.error({ jobId: job?.id, err: err.message }, 'tick failed'));
  let watching: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    watching = watching.then(() => watchRound(ctx, Date.now())).catch((err: unknown) => ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'scheduler watch failed'));
  }, ctx.config.schedule.watchIntervalMs);
  return {
    worker,
    async close() {
      clearInterval(timer);
      await watching;
      await worker.close();
      connection.disconnect();
    },
  };
}
