import { ingestJobId, scheduledTimeOf, tickDates, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import type { Logger } from '@recomart/logging';
import { catchUp } from './catch-up.js';
import { enqueuePartitions } from './enqueue-partitions.js';
import { reportFailedForGood } from './failed-partitions.js';
import type { AuditEmitter, IngestQueue, ScheduleSettings } from '@recomart/queue';
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
  /** Job ids of partitions left alone because their job failed for good. */
  failedForGood: string[];
}

export interface TickDeps {
  lake: Lake;
  queues: ReadonlyMap<SourceName, IngestQueue>;
  logger: Logger;
  /** The stored schedule settings, read at every tick (never this process's environment). */
  settings: () => Promise<ScheduleSettings>;
  audit?: AuditEmitter;
  /** @defaultValue Date.now */
  now?: () => number;
}

/**
 * Turns a scheduler tick into ingest jobs: the logical date of the tick's
 * scheduled time (never "now") in the stored PARTITION_TZ, and the day before
 * (consecutive ticks can step over a partition day), then catches up from today.
 * Partitions whose job failed for good are reported, not re-run.
 */
export function createTickProcessor(deps: TickDeps) {
  const now = deps.now ?? Date.now;
  return async function processTick(job: TickJobLike): Promise<TickResult> {
    const { source } = job.data;
    const settings = await deps.settings();
    const scheduledAt = scheduledTimeOf(job);
    const [before, date] = tickDates(source, scheduledAt, settings.partitionTz);
    const main = await enqueuePartitions(deps.queues, deps.lake, [{ source, date: before }, { source, date }], { trigger: 'schedule', requestedBy: 'scheduler' });
    const missed = await catchUp(deps.queues, deps.lake, [source], now(), settings.partitionTz, settings.catchUpDays);
    const failed = [...main.failedForGood, ...missed.failedForGood.filter((f) => !main.failedForGood.some((m) => m.jobId === f.jobId))];
    await reportFailedForGood(failed, deps.audit, deps.logger);
    const result: TickResult = {
      source,
      date,
      scheduledAt: new Date(scheduledAt).toISOString(),
      enqueued: main.added.includes(ingestJobId(source, date)),
      caughtUp: [...main.added.filter((id) => id !== ingestJobId(source, date)), ...missed.added],
      failedForGood: failed.map((f) => f.jobId),
    };
    deps.logger.info({ event: 'tick', ...result }, `tick for ${source} ${date}`);
    return result;
  };
}
