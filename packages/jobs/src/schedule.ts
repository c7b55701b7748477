import { addDays, dateInZone } from './dates.js';
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
 * (never "now"), so a late or retried tick ingests the same date.
 *
 * @example logicalDateForTick('clickstream', Date.parse('2026-11-25T02:00:00Z'), 'UTC') === '2026-11-24'
 */
export function logicalDateForTick(source: SourceName, scheduledAtMs: number, timeZone: string): string {
  return addDays(dateInZone(scheduledAtMs, timeZone), TICK_DAY_OFFSET[source]);
}

/** The scheduled time of a scheduler-made job: `opts.prevMillis`, else the `repeat:<id>:<millis>` job id. */
export function scheduledTimeOf(job: { id?: string | undefined; opts: { prevMillis?: number | undefined }; timestamp: number }): number {
  if (typeof job.opts.prevMillis === 'number' && job.opts.prevMillis > 0) return job.opts.prevMillis;
  const m = /:(\d{10,})$/.exec(job.id ?? '');
  if (m) return Number(m[1]);
  return job.timestamp;
}
