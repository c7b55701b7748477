import { addDays } from './dates.js';
import { partitionDateOf } from './partition-day.js';
import type { SourceName } from './sources.js';

/** The queue that receives the daily scheduler ticks (consumed by `recomart schedule --serve`). */
export const SCHEDULE_QUEUE = 'schedule-ticks';

/** The BullMQ job scheduler id of a source's daily schedule. */
export function schedulerId(source: SourceName): string {
  return `daily-${source}`;
}

/**
 * How far back from the tick's own calendar day each source's data lies:
 * clickstream ingests the previous day (exports are complete after midnight),
 * products snapshot the same day.
 */
export const TICK_DAY_OFFSET: Readonly<Record<SourceName, number>> = { clickstream: -1, products: 0 };

/**
 * The logical date a scheduled tick ingests, from the tick's SCHEDULED time
 * (never "now"), so a late or retried tick ingests the same date. The date is
 * the partition day (PARTITION_TZ) the tick fired in, shifted by the source's
 * offset: clickstream takes the day before, the last one that has ended.
 * Called with "now" it gives the newest date a source can have.
 *
 * @example logicalDateForTick('clickstream', Date.parse('2026-11-25T02:00:00Z'), 'UTC') === '2026-11-24'
 */
export function logicalDateForTick(source: SourceName, scheduledAtMs: number, partitionTimeZone: string): string {
  return addDays(partitionDateOf(scheduledAtMs, partitionTimeZone), TICK_DAY_OFFSET[source]);
}

/**
 * The dates one tick makes sure have a job: its own date and the day before.
 * Consecutive ticks of a daily schedule are at most ~26 hours apart (a
 * schedule zone's offset change), so they can step over one partition day
 * (Europe/London at 00:00 in October steps from Saturday to Monday in UTC);
 * covering the day before closes that gap whatever CATCH_UP_DAYS says.
 */
export function tickDates(source: SourceName, scheduledAtMs: number, partitionTimeZone: string): [string, string] {
  const date = logicalDateForTick(source, scheduledAtMs, partitionTimeZone);
  return [addDays(date, -1), date];
}

/** The scheduled time of a scheduler-made job: `opts.prevMillis`, else the `repeat:<id>:<millis>` job id. */
export function scheduledTimeOf(job: { id?: string | undefined; opts: { prevMillis?: number | undefined }; timestamp: number }): number {
  if (typeof job.opts.prevMillis === 'number' && job.opts.prevMillis > 0) return job.opts.prevMillis;
  const m = /:(\d{10,})$/.exec(job.id ?? '');
  if (m) return Number(m[1]);
  return job.timestamp;
}
