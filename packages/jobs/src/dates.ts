import { InvalidInputError } from './errors.js';
import { wallClockOf } from './zoned-time.js';
import { echoInput } from '@recomart/logging';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Whether `value` is a real calendar date written as YYYY-MM-DD. */
export function isLogicalDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return y >= 1970 && isCalendarDay(y, mo, d);
}

/** Whether year, month (1-12) and day name a real day of the proleptic Gregorian calendar (any year 0-9999). */
function isCalendarDay(y: number, mo: number, d: number): boolean {
  if (y > 9999 || mo < 1 || mo > 12 || d < 1) return false;
  // Date.UTC reads years 0-99 as 1900-1999: shift by 400 years (the calendar repeats).
  const t = new Date(Date.UTC(y + 400, mo - 1, d));
  return t.getUTCFullYear() === y + 400 && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The first and last logical dates the lake accepts. */
export const FIRST_LOGICAL_DATE = '1970-01-01';
export const LAST_LOGICAL_DATE = '9999-12-31';

/**
 * Checks a logical date (the day a partition's data covers).
 * @param label how the value is named in the message, e.g. `--from` or `date`.
 * @throws InvalidInputError `--from must be a calendar date as YYYY-MM-DD, got "2024-02-30"`, or
 *   `--date must be from 1970-01-01 to 9999-12-31, got "1969-12-31"` for a real date outside the range.
 */
export function parseLogicalDate(value: unknown, label = 'date'): string {
  if (!isLogicalDate(value)) {
    const m = typeof value === 'string' ? DATE_RE.exec(value) : null;
    const shaped = m !== null && isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
    const rule = shaped ? `be from ${FIRST_LOGICAL_DATE} to ${LAST_LOGICAL_DATE}` : 'be a calendar date as YYYY-MM-DD';
    throw new InvalidInputError(`${label} must ${rule}, got ${echoInput(value)}`);
  }
  return value;
}

/** Midnight UTC of a logical date, in epoch ms. */
export function dateStartMs(date: string): number {
  const m = DATE_RE.exec(parseLogicalDate(date)) as RegExpExecArray;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/**
 * The logical date `days` after (or before, when negative) `date`.
 * @throws InvalidInputError when the result falls outside 1970-01-01..9999-12-31.
 */
export function addDays(date: string, days: number): string {
  const ms = dateStartMs(date) + days * DAY_MS;
  if (!(ms >= 0 && ms <= dateStartMs(LAST_LOGICAL_DATE))) {
    throw new InvalidInputError(`${date} ${days < 0 ? '-' : '+'} ${Math.abs(days)} day(s) is outside ${FIRST_LOGICAL_DATE}..${LAST_LOGICAL_DATE}`);
  }
  return new Date(ms).toISOString().slice(0, 10);
}

/** The UTC date of an instant. */
export function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The calendar date of an instant in an IANA time zone. */
export function dateInZone(ms: number, timeZone: string): string {
  return utcDateOf(wallClockOf(ms, timeZone));
}

/** `{ yyyy, mm, dd }` of a logical date, for partition paths. */
export function dateParts(date: string): { yyyy: string; mm: string; dd: string } {
  const m = DATE_RE.exec(parseLogicalDate(date)) as RegExpExecArray;
  return { yyyy: m[1] as string, mm: m[2] as string, dd: m[3] as string };
}

/** Number of days from `from` to `to`, both included. */
export function daysInRange(from: string, to: string): number {
  return Math.round((dateStartMs(to) - dateStartMs(from)) / DAY_MS) + 1;
}

/**
 * Every date from `from` to `to`, both included.
 * @throws InvalidInputError on bad dates, `from` after `to`, or more than `maxDays` days.
 */
export function dateRange(from: string, to: string, maxDays = 3660, labels = { from: '--from', to: '--to' }): string[] {
  parseLogicalDate(from, labels.from);
  parseLogicalDate(to, labels.to);
  const n = daysInRange(from, to);
  if (n < 1) throw new InvalidInputError(`${labels.from} ${from} is after ${labels.to} ${to}`);
  if (n > maxDays) throw new InvalidInputError(`the range ${from}..${to} has ${n} days, more than the limit of ${maxDays} (BACKFILL_MAX_DAYS)`);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(addDays(from, i));
  return out;
}
