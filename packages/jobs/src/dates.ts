import { InvalidInputError } from './errors.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Whether `value` is a real calendar date written as YYYY-MM-DD. */
export function isLogicalDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1) return false;
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/**
 * Checks a logical date (the day a partition's data covers).
 * @param label how the value is named in the message, e.g. `--from` or `date`.
 * @throws InvalidInputError `--from must be a calendar date as YYYY-MM-DD, got "2024-02-30"`
 */
export function parseLogicalDate(value: unknown, label = 'date'): string {
  if (!isLogicalDate(value)) {
    throw new InvalidInputError(`${label} must be a calendar date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Midnight UTC of a logical date, in epoch ms. */
export function dateStartMs(date: string): number {
  const m = DATE_RE.exec(parseLogicalDate(date)) as RegExpExecArray;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** The logical date `days` after (or before, when negative) `date`. */
export function addDays(date: string, days: number): string {
  return new Date(dateStartMs(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC date of an instant. */
export function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The calendar date of an instant in an IANA time zone. */
export function dateInZone(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(ms);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
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
