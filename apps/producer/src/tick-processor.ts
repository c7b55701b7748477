import type { Config } from '@recomart/config';
import { logicalDateForTick, scheduledTimeOf, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import type { Logger } from '@recomart/logging';
import type { IngestQueue } from '@recomart/queue';
import { catchUp } from './catch-up.js';
import { enqueuePartitions } from './enqueue-partitions.js';
import type { TickData } from './scheduler-setup.js';

/** The part of a tick job the processor reads (a BullMQ `Job` fits). */
export interface TickJobLike {
  id?: string | undefined;
  data: TickData;
  timestamp: number;
  opts: { prevMillis?: number | undefined };
}

export interface TickResult {
  source: SourceName;
  date: string;
  scheduledAt: string;
  enqueued: boolean;
  caughtUp: string[];
}

/**
 * Turns a scheduler tick into the ingest job for the logical date of the
 * tick's scheduled time (never "now"), then catches up missed days.
 */
export function createTickProcessor(deps: { config: Config; lake: Lake; queues: ReadonlyMap<SourceName, IngestQueue>; logger: Logger }) {
  return async function processTick(job: TickJobLike): Promise<TickResult> {
    const { source } = job.data;
    const scheduledAt = scheduledTimeOf(job);
    const date = logicalDateForTick(source, scheduledAt, deps.config.schedule.tz);
    const main = await enqueuePartitions(deps.queues, deps.lake, [{ source, date }], { trigger: 'schedule', requestedBy: 'scheduler' });
    const missed = await catchUp(deps.queues, deps.lake, [source], { [source]: date }, deps.config.schedule.catchUpDays);
    const result: TickResult = {
      source,
      date,
      scheduledAt: new Date(scheduledAt).toISOString(),
      enqueued: main.added.length > 0,
      caughtUp: missed.added,
    };
    deps.logger.info({ event: 'tick', ...result }, `tick for ${source} ${date}`);
    return result;
  };
}
