import { COLUMNS, EVENT_TYPES, REJECT_REASONS, rejectMessages, type RejectReason } from './contract.js';
import type { DayWindow } from './day-window.js';
import { HyperLogLog } from './hyperloglog.js';
import type { RawRecord } from './record-parser.js';

/** Distinct devices counted by name; the rest go to `(other)`. */
export const MAX_DEVICES = 100;
const OTHER_DEVICE = '(other)';

/** Where the validator sends what it finds in the current file. */
export interface FileHooks {
  /** A rejected record: where it starts, and why (codes and their exact messages, same order). */
  reject(byteOffset: number, cells: number, reasons: readonly RejectReason[], messages: readonly string[]): void;
  /** Called once per file when it reaches `raggedWindow` data rows, with how many of them had the wrong field count. */
  raggedCheck(rows: number, ragged: number): void;
  /** Called every `progressEvery` rows over all files. */
  progress(rows: number, rejected: number): void;
}

/** The manifest's `validation` summary (see `RowValidator.summary`). */
export interface ValidationSummary {
  [key: string]: unknown;
  rows: number;
  accepted: number;
  rejected: number;
  rejectRatio: number;
  rejectedByReason: Record<RejectReason, number>;
  eventTypes: Record<string, number>;
  devices: Record<string, number>;
  firstTimestamp: string | null;
  lastTimestamp: string | null;
  distinctUsersApprox: number;
  distinctProductsApprox: number;
  distinctMethod: string;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 0 view, 1 click, 2 add_to_cart, -1 anything else; on raw bytes. */
function eventTypeOf(b: Uint8Array): number {
  switch (b.length) {
    case 4:
      return b[0] === 0x76 && b[1] === 0x69 && b[2] === 0x65 && b[3] === 0x77 ? 0 : -1;
    case 5:
      return b[0] === 0x63 && b[1] === 0x6c && b[2] === 0x69 && b[3] === 0x63 && b[4] === 0x6b ? 1 : -1;
    case 11:
      return b[0] === 0x61 && b[1] === 0x64 && b[2] === 0x64 && b[3] === 0x5f && b[4] === 0x74 && b[5] === 0x6f &&
        b[6] === 0x5f && b[7] === 0x63 && b[8] === 0x61 && b[9] === 0x72 && b[10] === 0x74
        ? 2
        : -1;
    default:
      return -1;
  }
}

const EMPTY = Buffer.alloc(0);
const FIELDS = COLUMNS.length;

/**
 * Checks clickstream records against the contract and keeps the day's
 * statistics over all its files. Written for the hot path: a good record is
 * judged on its raw bytes (no strings, no Date, no regex, no allocation); only
 * a record that fails the quick checks takes the strict, string-based path,
 * which either accepts it (an unusual but valid timestamp) or names every
 * reason it is rejected.
 */
export class RowValidator {
  private rows = 0;
  private accepted = 0;
  private rejected = 0;
  private readonly byReason = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));
  private readonly eventCounts = [0, 0, 0];
  private deviceKeys: Buffer[] = [];
  private readonly deviceNames: string[] = [];
  private readonly deviceCounts: number[] = [];
  private otherDevices = 0;
  private lastDevice = 0;
  private first = Infinity;
  private last = -Infinity;
  private readonly users = new HyperLogLog();
  private readonly products = new HyperLogLog();
  private nextProgress: number;
  private fileRows = 0;
  private fileRagged = 0;
  private hooks: FileHooks | undefined;

  constructor(
    private readonly window: DayWindow,
    private readonly progressEvery = 65_536,
    /** A file whose first this-many rows are mostly ragged is not in the contract's shape. */
    readonly raggedWindow = 1000,
  ) {
    this.nextProgress = progressEvery;
  }

  /** Starts a file: its hooks receive rejections and the ragged check. */
  beginFile(hooks: FileHooks): void {
    this.hooks = hooks;
    this.fileRows = 0;
    this.fileRagged = 0;
  }

  /** Data rows and those with the wrong field count in the current file. */
  fileCounts(): { rows: number; ragged: number } {
    return { rows: this.fileRows, ragged: this.fileRagged };
  }

  get counts(): { rows: number; accepted: number; rejected: number } {
    return { rows: this.rows, accepted: this.accepted, rejected: this.rejected };
  }

  /** One record (`cells` fields, starting at `byteOffset`). The hot path. */
  check(record: RawRecord, cells: number, byteOffset: number): void {
    if (!this.quickAccept(record, cells)) {
      // A blank line is not a record.
      if (cells === 0) return;
      this.slowPath(record, cells, byteOffset);
    }
    const rows = ++this.rows;
    if (++this.fileRows === this.raggedWindow) this.hooks?.raggedCheck(this.fileRows, this.fileRagged);
    if (rows === this.nextProgress) {
      this.nextProgress += this.progressEvery;
      this.hooks?.progress(rows, this.rejected);
    }
  }

  /** Accepts a record in the common shapes from its bytes alone; false when the strict path must judge it. */
  private quickAccept(record: RawRecord, cells: number): boolean {
    const u = record.user_id;
    const p = record.product_id;
    const e = record.event_type;
    const t = record.timestamp;
    const d = record.device;
    if (cells !== FIELDS || u === undefined || p === undefined || e === undefined || t === undefined || d === undefined) return false;
    const et = eventTypeOf(e);
    if (et < 0 || u.length === 0 || p.length === 0 || d.length === 0) return false;
    const ms = this.window.fast(t);
    if (ms !== ms) return false;
    this.accept(et, ms, u, p, d);
    return true;
  }

  private accept(et: number, ms: number, u: Buffer, p: Buffer, d: Buffer): void {
    this.accepted++;
    (this.eventCounts[et] as number)++;
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
    this.users.add(u);
    this.products.add(p);
    const keys = this.deviceKeys;
    const last = this.lastDevice;
    if (last < keys.length && bytesEqual(keys[last] as Buffer, d)) {
      (this.deviceCounts[last] as number)++;
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      if (bytesEqual(keys[i] as Buffer, d)) {
        (this.deviceCounts[i] as number)++;
        this.lastDevice = i;
        return;
      }
    }
    if (keys.length < MAX_DEVICES) {
      // A copy: `d` is a view into the parser's buffer.
      this.deviceKeys = [...keys, Buffer.from(d)];
      this.deviceNames.push(d.toString('utf8'));
      this.deviceCounts.push(1);
      this.lastDevice = keys.length;
    } else {
      this.otherDevices++;
    }
  }

  /** The strict path: accepts a record the quick checks could not, or rejects it with every reason. */
  private slowPath(record: RawRecord, cells: number, byteOffset: number): void {
    const reasons: RejectReason[] = [];
    const messages: string[] = [];
    const fail = (reason: RejectReason, message: string) => {
      reasons.push(reason);
      messages.push(message);
    };
    let ms = NaN;
    let et = -1;
    if (cells !== FIELDS) {
      this.fileRagged++;
      fail('field_count', rejectMessages.field_count(cells));
    } else {
      const u = record.user_id ?? EMPTY;
      const p = record.product_id ?? EMPTY;
      const e = record.event_type ?? EMPTY;
      const t = (record.timestamp ?? EMPTY).toString('utf8');
      const d = record.device ?? EMPTY;
      if (u.length === 0) fail('empty_user_id', rejectMessages.empty_user_id());
      if (p.length === 0) fail('empty_product_id', rejectMessages.empty_product_id());
      et = eventTypeOf(e);
      if (et < 0) fail('bad_event_type', rejectMessages.bad_event_type(e.toString('utf8')));
      ms = this.window.parse(t);
      if (ms !== ms) fail('bad_timestamp', rejectMessages.bad_timestamp(t));
      else if (!this.window.contains(ms)) {
        fail('timestamp_off_day', rejectMessages.timestamp_off_day(t, new Date(ms).toISOString(), this.window.date, this.window.toleranceMs));
      }
      if (d.length === 0) fail('empty_device', rejectMessages.empty_device());
      if (reasons.length === 0) {
        this.accept(et, ms, u, p, d);
        return;
      }
    }
    this.rejected++;
    for (const r of reasons) this.byReason.set(r, (this.byReason.get(r) as number) + 1);
    this.hooks?.reject(byteOffset, cells, reasons, messages);
  }

  /** The manifest's `validation` object: counts, timestamps, approximate distinct counts. Deterministic for the same input. */
  summary(): ValidationSummary {
    // No prototype: a device named "__proto__" is just a key.
    const devices = Object.create(null) as Record<string, number>;
    const order = this.deviceNames.map((name, i) => [name, this.deviceCounts[i] as number] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, count] of order) devices[name] = (devices[name] ?? 0) + count;
    if (this.otherDevices > 0) devices[OTHER_DEVICE] = (devices[OTHER_DEVICE] ?? 0) + this.otherDevices;
    const eventTypes: Record<string, number> = {};
    EVENT_TYPES.forEach((t, i) => (eventTypes[t] = this.eventCounts[i] as number));
    return {
      rows: this.rows,
      accepted: this.accepted,
      rejected: this.rejected,
      rejectRatio: this.rows === 0 ? 0 : this.rejected / this.rows,
      rejectedByReason: Object.fromEntries(this.byReason) as Record<RejectReason, number>,
      eventTypes,
      devices,
      firstTimestamp: this.accepted === 0 ? null : new Date(this.first).toISOString(),
      lastTimestamp: this.accepted === 0 ? null : new Date(this.last).toISOString(),
      distinctUsersApprox: this.users.estimate(),
      distinctProductsApprox: this.products.estimate(),
      distinctMethod: HyperLogLog.method,
    };
  }
}
