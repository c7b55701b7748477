import { partitionDay } from '@recomart/jobs';

const DAY_MS = 86_400_000;

const CYCLE_DAYS = 146_097;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;
const EPOCH_MS_RE = /^\d{1,16}$/;
const COLON = 58;
const DOT = 46;
const ZULU = 90;

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
  /** `YYYY-MM-DDT` of the day as little-endian words: bytes 0-3, 4-7, 8-9 and 10. */
  private readonly p0: number;
  private readonly p1: number;
  private readonly p2: number;
  private readonly p3: number;

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
    const prefix = Buffer.from(`${date}T`, 'latin1');
    this.p0 = prefix.readUInt32LE(0);
    this.p1 = prefix.readUInt32LE(4);
    this.p2 = prefix.readUInt16LE(8);
    this.p3 = prefix.readUInt8(10);
  }

  /**
   * The instant of a timestamp in its common shapes, when it is inside the
   * window; NaN otherwise (then `parse` decides). No Date, no string.
   */
  fast(b: Uint8Array): number {
    return this.fastIn(new DataView(b.buffer, b.byteOffset, b.byteLength), 0, b.length);
  }

  /**
   * `fast` on the bytes `[o, o + n)` of `v`, read in place and several at a
   * time (the fast path hands over fields as offsets into the chunk): a
   * DataView load costs V8 about what one typed-array byte load does, so the
   * 11-byte date prefix is four loads, not eleven.
   */
  fastIn(v: DataView, o: number, n: number): number {
    if ((n === 24 || n === 20) && this.utcDay) {
      if (v.getUint32(o, true) !== this.p0 || v.getUint32(o + 4, true) !== this.p1 || v.getUint16(o + 8, true) !== this.p2 || v.getUint8(o + 10) !== this.p3) return NaN;
      // "HH:M" and "M:SS", little-endian: the first byte is the lowest.
      const w1 = v.getUint32(o + 11, true);
      const w2 = v.getUint32(o + 15, true);
      if (((w1 >>> 16) & 0xff) !== COLON || ((w2 >>> 8) & 0xff) !== COLON || v.getUint8(o + n - 1) !== ZULU) return NaN;
      const h1 = (w1 & 0xff) - 48;
      const h2 = ((w1 >>> 8) & 0xff) - 48;
      const m1 = (w1 >>> 24) - 48;
      const m2 = (w2 & 0xff) - 48;
      const s1 = ((w2 >>> 16) & 0xff) - 48;
      const s2 = (w2 >>> 24) - 48;
      if (h1 >>> 0 > 2 || h2 >>> 0 > 9 || m1 >>> 0 > 5 || m2 >>> 0 > 9 || s1 >>> 0 > 5 || s2 >>> 0 > 9) return NaN;
      const h = h1 * 10 + h2;
      if (h > 23) return NaN;
      let ms = 0;
      if (n === 24) {
        // ".mmm"
        const w3 = v.getUint32(o + 19, true);
        const a = ((w3 >>> 8) & 0xff) - 48;
        const c = ((w3 >>> 16) & 0xff) - 48;
        const d = (w3 >>> 24) - 48;
        if ((w3 & 0xff) !== DOT || a >>> 0 > 9 || c >>> 0 > 9 || d >>> 0 > 9) return NaN;
        ms = a * 100 + c * 10 + d;
      }
      return this.start + ((h * 60 + m1 * 10 + m2) * 60 + s1 * 10 + s2) * 1000 + ms;
    }
    if (n === 13) {
      let t = 0;
      for (let i = 0; i < 13; i++) {
        const d = v.getUint8(o + i) - 48;
        if (d >>> 0 > 9) return NaN;
        t = t * 10 + d;
      }
      return t >= this.min && t < this.max ? t : NaN;
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
