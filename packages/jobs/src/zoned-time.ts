/**
 * Instants and wall-clock times in an IANA time zone. A "wall-clock time" is
 * written as epoch ms read as if the zone were UTC: 02:00 on 2026-10-04 in any
 * zone is `Date.UTC(2026, 9, 4, 2)`. That is how cron patterns and calendar days
 * are evaluated without the zone's daylight-saving changes getting in the way.
 */

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offsets at 00:00Z of each UTC day, per zone (an Intl call costs ~6 µs; a schedule check asks thousands). */
const dayStartOffsets = new Map<string, Map<number, number>>();
const DAY_CACHE_LIMIT = 100_000;

function offsetAtDayStart(day: number, timeZone: string): number {
  let days = dayStartOffsets.get(timeZone);
  if (!days) {
    days = new Map();
    dayStartOffsets.set(timeZone, days);
  }
  let offset = days.get(day);
  if (offset === undefined) {
    if (days.size >= DAY_CACHE_LIMIT) days.clear();
    offset = exactOffsetMs(day * DAY_MS, timeZone);
    days.set(day, offset);
  }
  return offset;
}

/**
 * The zone's UTC offset at an instant, in ms (east positive: +10:30 is 37,800,000).
 * A UTC day that begins and ends with the same offset has it throughout (no zone
 * changes its offset twice within a day and back); only a day with a change asks Intl again.
 */
export function utcOffsetMs(ms: number, timeZone: string): number {
  const day = Math.floor(ms / DAY_MS);
  const start = offsetAtDayStart(day, timeZone);
  return start === offsetAtDayStart(day + 1, timeZone) ? start : exactOffsetMs(ms, timeZone);
}

/** `M/D/YYYY, HH:MM:SS` as en-US formats it (format + this is ~3× faster than formatToParts). */
const FORMATTED_RE = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

function exactOffsetMs(ms: number, timeZone: string): number {
  const text = formatterOf(timeZone).format(ms);
  const m = FORMATTED_RE.exec(text);
  if (!m) throw new Error(`unexpected date format from Intl: ${JSON.stringify(text)}`);
  const wall = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The wall-clock time of an instant in a zone. */
export function wallClockOf(ms: number, timeZone: string): number {
  return ms + utcOffsetMs(ms, timeZone);
}

/**
 * The instant a wall-clock time names in a zone. When the clock passes it twice
 * (the hour repeated when daylight saving ends) this is the earlier one; when
 * the clock skips it (the hour lost when daylight saving starts, or a whole day
 * a zone jumped over) it is moved forward by the length of the skip, so a time
 * at the start of the gap becomes the first instant after it (02:00 that does
 * not exist on Lord Howe Island's spring day becomes the 02:30 that does).
 */
export function instantOfWallClock(wall: number, timeZone: string): number {
  // Assumes at most one offset change within a day either side, which holds for every zone in the tz database.
  const before = utcOffsetMs(wall - DAY_MS, timeZone);
  const after = utcOffsetMs(wall + DAY_MS, timeZone);
  if (before === after) return wall - before;
  const candidates = [wall - before, wall - after].sort((a, b) => a - b);
  for (const c of candidates) if (wallClockOf(c, timeZone) === wall) return c;
  return wall - before;
}
