import { dateInZone, dateStartMs, parseLogicalDate } from './dates.js';
import { instantOfWallClock } from './zoned-time.js';

const DAY_MS = 86_400_000;

/**
 * "The day" of a partition: a calendar day in one configured zone
 * (PARTITION_TZ, default UTC), from its first instant up to the next day's.
 * Ticks, catch-up, the future-date check and the clickstream row window all
 * use this definition; a schedule's own zone only decides when ticks fire.
 * A day is 23, 24 or 25 hours long (or another length on the day a zone changes
 * its offset); one whose midnight does not exist begins at the first instant after the gap.
 */
export interface PartitionDay {
  date: string;
  timeZone: string;
  /** First instant of the day, epoch ms. */
  start: number;
  /** First instant of the next day, epoch ms. */
  end: number;
}

export function partitionDay(date: string, timeZone: string): PartitionDay {
  const midnight = dateStartMs(parseLogicalDate(date));
  return { date, timeZone, start: instantOfWallClock(midnight, timeZone), end: instantOfWallClock(midnight + DAY_MS, timeZone) };
}

/** The partition date an instant falls in. */
export function partitionDateOf(ms: number, timeZone: string): string {
  return dateInZone(ms, timeZone);
}
