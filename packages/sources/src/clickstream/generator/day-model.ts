import { dateStartMs } from '@recomart/jobs';
import { SeededRandom } from './seeded-random.js';
import { ZipfSampler } from './zipf-sampler.js';
import { DefectInjector } from './defects.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Relative traffic per UTC hour: quiet nights, a morning ramp, a lunch bump
 * and the evening peak.
 */
export const HOURLY_RHYTHM: readonly number[] = [
  1.2, 0.8, 0.5, 0.35, 0.3, 0.4, 0.8, 1.5, 2.2, 2.8, 3.1, 3.3, 3.6, 3.4, 3.2, 3.1, 3.2, 3.5, 4.0, 4.6, 4.9, 4.5, 3.4, 2.1,
];

/** Device names and their share of users. */
export const DEVICE_MIX: ReadonlyArray<readonly [string, number]> = [
  ['web', 0.44],
  ['android', 0.31],
  ['ios', 0.22],
  ['tablet', 0.03],
];

/** Funnel: a view leads to a click this often, a click to add_to_cart this often. */
export const FUNNEL = { clickAfterView: 0.3, cartAfterClick: 0.25 } as const;

/** Mean events per session and mean seconds between a session's events. */
const SESSION_MEAN_EVENTS = 8;
const GAP_MEAN_MS = 25_000;
/** Product popularity exponent (Zipf s). */
const PRODUCT_ZIPF_S = 1.07;
/** User activity exponent: a few heavy users, a long tail. */
const USER_ZIPF_S = 0.8;
/** Rows handed out per slice, so a big hour never becomes one giant string. */
const SLICE_ROWS = 16_384;
/** Events of one hour batch are indexed below this (2^24). */
const INDEX_SPAN = 16_777_216;

const EVENT_NAMES = ['view', 'click', 'add_to_cart'] as const;

export interface DayModelOptions {
  /** YYYY-MM-DD */
  date: string;
  /** Exact number of rows over all files. */
  rows: number;
  /** Number of files the day is split into (sessions are dealt round-robin). */
  files: number;
  /** Any text; the same seed and options give the same rows. */
  seed: string;
  /** Share of rows (0…1) given a realistic defect. */
  dirty: number;
}

/** Text for each file, in time order, and how many rows that was. */
export interface RowSlice {
  texts: string[];
  rows: number;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Growable columns of one hour's events. */
class EventColumns {
  size = 0;
  time = new Int32Array(1024);
  user = new Int32Array(1024);
  product = new Int32Array(1024);
  kind = new Uint8Array(1024);
  device = new Uint8Array(1024);
  file = new Uint16Array(1024);

  push(time: number, user: number, product: number, kind: number, device: number, file: number): void {
    if (this.size === this.time.length) this.grow();
    const i = this.size++;
    this.time[i] = time;
    this.user[i] = user;
    this.product[i] = product;
    this.kind[i] = kind;
    this.device[i] = device;
    this.file[i] = file;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const g = <T extends Int32Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.time = g(this.time, (k) => new Int32Array(k));
    this.user = g(this.user, (k) => new Int32Array(k));
    this.product = g(this.product, (k) => new Int32Array(k));
    this.kind = g(this.kind, (k) => new Uint8Array(k));
    this.device = g(this.device, (k) => new Uint8Array(k));
    this.file = g(this.file, (k) => new Uint16Array(k));
  }
}

/** Splits `total` over weights exactly (largest remainder). */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return out;
}

/**
 * The simulated day: users (a Zipf-skewed activity tail, each with a usual
 * device) start sessions following the hourly rhythm; a session views
 * Zipf-popular products, some views lead to clicks and some clicks to
 * add_to_cart. Rows come out per file in time order, hour by hour, as CSV
 * text (ISO-8601 UTC timestamps with milliseconds), with defects injected into
 * a `dirty` share of rows. Deterministic: everything draws from one seeded
 * generator in a fixed order.
 */
export class DayModel {
  private readonly rng: SeededRandom;
  private readonly products: ZipfSampler;
  private readonly users: ZipfSampler;
  private readonly userCount: number;
  private readonly productCount: number;
  private readonly defects: DefectInjector;
  private readonly dayStart: number;
  private readonly prefix: string;
  private readonly deviceCumulative: number[];
  private readonly twoDigits: string[];
  private readonly threeDigits: string[];
  private session = 0;

  constructor(private readonly options: DayModelOptions) {
    this.rng = new SeededRandom(`${options.seed}|${options.date}`);
    this.userCount = Math.max(50, Math.ceil(options.rows / 12));
    this.productCount = Math.max(100, Math.min(200_000, Math.ceil(options.rows / 20)));
    this.users = new ZipfSampler(this.userCount, USER_ZIPF_S);
    this.products = new ZipfSampler(this.productCount, PRODUCT_ZIPF_S);
    this.dayStart = dateStartMs(options.date);
    this.prefix = `${options.date}T`;
    let acc = 0;
    this.deviceCumulative = DEVICE_MIX.map(([, share]) => (acc += share));
    this.twoDigits = Array.from({ length: 60 }, (_, i) => pad(i, 2));
    this.threeDigits = Array.from({ length: 1000 }, (_, i) => pad(i, 3));
    this.defects = new DefectInjector(this.rng, options.date);
  }

  /** User ids: 8-digit numbers, scattered so rank and id do not line up. */
  private userId(rank: number): string {
    return String(10_000_000 + ((rank * 2_654_435_761) % 89_999_999));
  }

  /** Product ids: 6-digit numbers, scattered likewise. */
  private productId(rank: number): string {
    return String(100_000 + ((rank * 7919) % 899_999));
  }

  /** A user's usual device (90% of their sessions), from a hash of the user. */
  private deviceOf(user: number): number {
    if (this.rng.next() < 0.1) return this.rng.weighted(this.deviceCumulative);
    const h = (Math.imul(user, 0x9e3779b1) >>> 0) / 4294967296;
    const total = this.deviceCumulative[this.deviceCumulative.length - 1] as number;
    let i = 0;
    while (i < this.deviceCumulative.length - 1 && h * total >= (this.deviceCumulative[i] as number)) i++;
    return i;
  }

  /** One session starting at `start` (ms into the day), at most `max` events. */
  private addSession(into: EventColumns, start: number, max: number): number {
    const rng = this.rng;
    const user = this.users.sample(rng);
    const device = this.deviceOf(user);
    const file = this.session++ % this.options.files;
    const n = Math.min(max, 1 + Math.floor(rng.exponential(SESSION_MEAN_EVENTS - 1)));
    let t = start;
    let made = 0;
    // A session that would run past midnight just ends there (the day's row count is made up by other sessions).
    while (made < n && t < DAY_MS) {
      const product = this.products.sample(rng);
      into.push(t, user, product, 0, device, file);
      made++;
      if (made < n && rng.next() < FUNNEL.clickAfterView) {
        t = Math.floor(t + 1000 + rng.exponential(6000));
        if (t >= DAY_MS) break;
        into.push(t, user, product, 1, device, file);
        made++;
        if (made < n && rng.next() < FUNNEL.cartAfterClick) {
          t = Math.floor(t + 2000 + rng.exponential(15_000));
          if (t >= DAY_MS) break;
          into.push(t, user, product, 2, device, file);
          made++;
        }
      }
      t = Math.floor(t + 500 + rng.exponential(GAP_MEAN_MS));
    }
    return made;
  }

  private formatRow(cols: EventColumns, i: number): string {
    const t = cols.time[i] as number;
    const ms = t % 1000;
    const s = Math.floor(t / 1000);
    const time = `${this.prefix}${this.twoDigits[Math.floor(s / 3600)]}:${this.twoDigits[Math.floor(s / 60) % 60]}:${this.twoDigits[s % 60]}.${this.threeDigits[ms]}Z`;
    const user = this.userId(cols.user[i] as number);
    const product = this.productId(cols.product[i] as number);
    const event = EVENT_NAMES[cols.kind[i] as number] as string;
    const device = (DEVICE_MIX[cols.device[i] as number] as readonly [string, number])[0];
    if (this.options.dirty > 0 && this.rng.next() < this.options.dirty) {
      return this.defects.row(user, product, event, time, device, this.dayStart + t);
    }
    return `${user},${product},${event},${time},${device}\n`;
  }

  /** The day's rows: per file, in time order, in slices of bounded size. */
  *slices(): Generator<RowSlice> {
    const quotas = apportion(this.options.rows, HOURLY_RHYTHM);
    let carry = new EventColumns();
    for (let hour = 0; hour < 24; hour++) {
      const hourStart = hour * HOUR_MS;
      const hourEnd = hourStart + HOUR_MS;
      const cols = carry;
      let left = quotas[hour] as number;
      while (left > 0) left -= this.addSession(cols, hourStart + this.rng.int(HOUR_MS), left);
      // Events of this hour in time order (stable by insertion); later ones wait for their hour.
      // Sort keys pack (time, index) into one double: time < 2^27 ms, index < 2^24.
      if (cols.size > INDEX_SPAN) throw new RangeError(`one hour of this day has ${cols.size} events, more than the generator handles (${INDEX_SPAN}); ask for fewer rows per day`);
      const keys = new Float64Array(cols.size);
      let n = 0;
      const next = new EventColumns();
      for (let i = 0; i < cols.size; i++) {
        const t = cols.time[i] as number;
        if (t >= hourEnd && hour < 23) next.push(t, cols.user[i] as number, cols.product[i] as number, cols.kind[i] as number, cols.device[i] as number, cols.file[i] as number);
        else keys[n++] = t * INDEX_SPAN + i;
      }
      carry = next;
      const order = keys.subarray(0, n).sort();
      const files = this.options.files;
      for (let from = 0; from < n; from += SLICE_ROWS) {
        const lines: string[][] = Array.from({ length: files }, () => []);
        const to = Math.min(n, from + SLICE_ROWS);
        for (let k = from; k < to; k++) {
          const i = (order[k] as number) % INDEX_SPAN;
          (lines[cols.file[i] as number] as string[]).push(this.formatRow(cols, i));
        }
        yield { texts: lines.map((l) => l.join('')), rows: to - from };
      }
    }
  }
}
