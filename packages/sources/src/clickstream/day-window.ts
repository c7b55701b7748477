import { partitionDay } from '@recomart/jobs';

const DAY_MS = 86_400_000;

const CYCLE_DAYS = 146_097;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;
const EPOCH_MS_RE = /^\d{1,16}$/;
const COLON = 58;
const DOT = 46;
const ZULU = 90;

/** Two ASCII digits at `i` as a number, or 100 when either is not a digit. */
function twoDigits(b: Uint8Array, i: number): number {
  const hi = (b[i] as number) - 48;
  const lo = (b[i + 1] as number) - 48;
  if (hi >>> 0 > 9 || lo >>> 0 > 9) return 100;
  return hi * 10 + lo;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * The instants a partition day accepts: `[midnight - tolerance, next midnight + tolerance)`
 * in the partition zone (PARTITION_TZ, default UTC: `partitionDay` in @recomart/jobs),
 * and the two ways of reading a timestamp: a fast check on raw bytes for the common
 * shapes (`YYYY-MM-DDTHH:MM:SS[.sss]Z` on the day itself when the zone is UTC,
 * 13-digit epoch milliseconds) and a strict full parser for everything else.
 */
export class DayWindow {
  /** First instant of the day in the partition zone (midnight, or the end of a skipped midnight), epoch ms. */
  readonly start: number;
  /** First instant of the next day, epoch ms. */
  readonly end: number;
  /** First instant accepted (start - tolerance). */
  readonly min: number;
  /** First instant no longer accepted (next midnight + tolerance). */
  readonly max: number;
  /** `YYYY-MM-DDT` of the day, as bytes. */
  private readonly prefix: Uint8Array;

  /** Whether a `…Z` timestamp on the day's UTC date is inside the day (only when the zone is UTC). */
  private readonly utcDay: boolean;

  constructor(
    readonly date: string,
    readonly toleranceMs: number,
    readonly timeZone = 'UTC',
  ) {
    const day = partitionDay(date, timeZone);
    this.start = day.start;
    this.end = day.end;
    this.min = this.start - toleranceMs;
    this.max = day.end + toleranceMs;
    this.utcDay = day.start === Date.parse(`${date}T00:00:00Z`) && day.end - day.start === DAY_MS;
    this.prefix = Buffer.from(`${date}T`, 'latin1');
  }

  /**
   * The instant of a timestamp in its common shapes, when it is inside the
   * window; NaN otherwise (then `parse` decides). No allocation, no Date.
   */
  fast(b: Uint8Array): number {
    return this.fastAt(b, 0, b.length);
  }

  /**
   * `fast` on the bytes `b[o, o + n)`, read in place (the fast path hands over
   * views of the chunk as offsets: no copy).
   */
  fastAt(b: Uint8Array, o: number, n: number): number {
    if ((n === 24 || n === 20) && this.utcDay) {
      const p = this.prefix;
      for (let i = 0; i < 11; i++) if (b[o + i] !== p[i]) return NaN;
      if (b[o + 13] !== COLON || b[o + 16] !== COLON || b[o + n - 1] !== ZULU) return NaN;
      const h = twoDigits(b, o + 11);
      const m = twoDigits(b, o + 14);
      const s = twoDigits(b, o + 17);
      if (h > 23 || m > 59 || s > 59) return NaN;
      let ms = 0;
      if (n === 24) {
        if (b[o + 19] !== DOT) return NaN;
        const a = (b[o + 20] as number) - 48;
        const c = twoDigits(b, o + 21);
        if (a >>> 0 > 9 || c > 99) return NaN;
        ms = a * 100 + c;
      }
      return this.start + ((h * 60 + m) * 60 + s) * 1000 + ms;
    }
    if (n === 13) {
      let v = 0;
      for (let i = 0; i < 13; i++) {
        const d = (b[o + i] as number) - 48;
        if (d >>> 0 > 9) return NaN;
        v = v * 10 + d;
      }
      return v >= this.min && v < this.max ? v : NaN;
    }
    return NaN;
  }

  /**
   * Strictly parses ISO-8601 with a zone (`Z`, `±hh`, `±hhmm`, `±hh:mm`;
   * seconds and up to 9 fraction digits optional) or epoch milliseconds.
   * @returns epoch ms, or NaN when the text is neither.
   */
  parse(text: string): number {
    if (EPOCH_MS_RE.test(text)) return Number(text);
    const m = ISO_RE.exec(text);
    if (!m) return NaN;
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const hour = Number(m[4]);
    const minute = Number(m[5]);
    const second = m[6] === undefined ? 0 : Number(m[6]);
    const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
    if (hour > 23 || minute > 59 || second > 59) return NaN;
    const zone = m[8] as string;
    let offsetMin = 0;
    if (zone !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
      if (oh > 23 || om > 59) return NaN;
      offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
    }
    // Date.UTC reads years 0-99 as 1900-1999; shift by one 400-year Gregorian cycle (146097 days) instead.
    const early = year < 100;
    const utc = Date.UTC(early ? year + 400 : year, month - 1, day, hour, minute, second, ms) - (early ? CYCLE_DAYS * DAY_MS : 0);
    return utc - offsetMin * 60_000;
  }

  /** Whether an instant is inside the window. */
  contains(ms: number): boolean {
    return ms >= this.min && ms < this.max;
  }
}
