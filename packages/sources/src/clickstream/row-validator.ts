import { COLUMNS, EVENT_TYPES, REJECT_REASONS, rejectMessages, type RejectReason } from './contract.js';
import type { DayWindow } from './day-window.js';
import { HyperLogLog } from './hyperloglog.js';
import type { RawRecord } from './record-parser.js';

/** Distinct devices counted by name; the rest go to `(other)`. */
export const MAX_DEVICES = 100;
const OTHER_DEVICE = '(other)';
/** Slots of the device guess table (a power of two). */
const DEVICE_SLOTS = 256;
const DEVICE_SLOT_MASK = DEVICE_SLOTS - 1;

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

/** Whether `key` equals the bytes `b[start, end)`. */
function bytesEqual(key: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  const n = key.length;
  if (n !== end - start) return false;
  for (let i = 0; i < n; i++) if (key[i] !== b[start + i]) return false;
  return true;
}

/** `text` as little-endian words from byte `at`: one 32-bit, or 16/8-bit with `bits`. */
const word = (text: string, at: number, bits: 32 | 16 | 8 = 32): number => {
  const b = Buffer.from(text, 'latin1');
  return bits === 32 ? b.readUInt32LE(at) : bits === 16 ? b.readUInt16LE(at) : b.readUInt8(at);
};
const VIEW = word('view', 0);
const CLIC = word('click', 0);
const K = word('click', 4, 8);
const ADD_ = word('add_to_cart', 0);
const TO_C = word('add_to_cart', 4);
const AR = word('add_to_cart', 8, 16);
const T = word('add_to_cart', 10, 8);

/** 0 view, 1 click, 2 add_to_cart, -1 anything else; on the bytes `[s, end)` of `v`, a few at a time. */
function eventTypeIn(v: DataView, s: number, end: number): number {
  switch (end - s) {
    case 4:
      return v.getUint32(s, true) === VIEW ? 0 : -1;
    case 5:
      return v.getUint32(s, true) === CLIC && v.getUint8(s + 4) === K ? 1 : -1;
    case 11:
      return v.getUint32(s, true) === ADD_ && v.getUint32(s + 4, true) === TO_C && v.getUint16(s + 8, true) === AR && v.getUint8(s + 10) === T ? 2 : -1;
    default:
      return -1;
  }
}

/** A DataView on a whole field (the record path). */
function viewOn(b: Buffer): DataView<ArrayBufferLike> {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** `eventTypeIn` on a whole field. */
function eventTypeOf(b: Buffer): number {
  return eventTypeIn(viewOn(b), 0, b.length);
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
  /** `DEVICE_SLOTS` guesses: index + 1 of a device key, 0 for none. */
  private readonly deviceSlots = new Uint8Array(DEVICE_SLOTS);
  /** A DataView on the chunk the fast path is reading (one per chunk), and that chunk. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | undefined;
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

  /** One record (`cells` fields, starting at `byteOffset`). */
  check(record: RawRecord, cells: number, byteOffset: number): void {
    if (!this.quickAccept(record, cells)) {
      // A blank line is not a record.
      if (cells === 0) return;
      this.slowPath(record, cells, byteOffset);
    }
    this.counted();
  }

  /**
   * One plain record straight from the text (the fast path): `cells` fields, the
   * first five of them (in file order) at `buf[cut[2i], cut[2i + 1])`; `order[c]`
   * is the file position of contract column `c` (COLUMNS order). No allocation
   * for a good record; `record()` builds the record for the strict path.
   */
  checkPlain(buf: Buffer, cut: Int32Array, order: Uint8Array, cells: number, byteOffset: number, record: () => RawRecord): void {
    if (cells !== FIELDS || !this.quickAcceptPlain(buf, cut, order)) this.slowPath(record(), cells, byteOffset);
    this.counted();
  }

  private quickAcceptPlain(buf: Buffer, cut: Int32Array, order: Uint8Array): boolean {
    const u = 2 * (order[0] as number);
    const p = 2 * (order[1] as number);
    const e = 2 * (order[2] as number);
    const t = 2 * (order[3] as number);
    const d = 2 * (order[4] as number);
    const us = cut[u] as number;
    const ue = cut[u + 1] as number;
    const ps = cut[p] as number;
    const pe = cut[p + 1] as number;
    const ds = cut[d] as number;
    const de = cut[d + 1] as number;
    if (us === ue || ps === pe || ds === de) return false;
    const view = buf === this.viewOf ? this.view : this.viewFor(buf);
    const et = eventTypeIn(view, cut[e] as number, cut[e + 1] as number);
    if (et < 0) return false;
    const ts = cut[t] as number;
    const width = (cut[t + 1] as number) - ts;
    const ms = this.window.fastIn(view, ts, width);
    if (ms !== ms) return false;
    this.accept(et, ms, view, us, ue, view, ps, pe, buf, ds, de);
    return true;
  }

  /** A DataView on `buf`, the chunk now read (kept until the next one). */
  private viewFor(buf: Buffer): DataView<ArrayBufferLike> {
    this.viewOf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return this.view;
  }

  /** Counts a data row (accepted or rejected): the ragged-file window and progress. */
  private counted(): void {
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
    this.accept(et, ms, viewOn(u), 0, u.length, viewOn(p), 0, p.length, d, 0, d.length);
    return true;
  }

  /** Counts an accepted record; user and product are the bytes `[start, end)` of their views, the device of its buffer. */
  private accept(et: number, ms: number, uv: DataView<ArrayBufferLike>, us: number, ue: number, pv: DataView<ArrayBufferLike>, ps: number, pe: number, db: Buffer, ds: number, de: number): void {
    this.accepted++;
    (this.eventCounts[et] as number)++;
    if (ms < this.first) this.first = ms;
    if (ms > this.last) this.last = ms;
    this.users.addIn(uv, us, ue);
    this.products.addIn(pv, ps, pe);
    const keys = this.deviceKeys;
    // A direct-mapped guess from the length and the first and last byte; the bytes decide.
    const slot = ((de - ds) * 31 + (db[ds] as number) * 7 + (db[de - 1] as number)) & DEVICE_SLOT_MASK;
    const guess = (this.deviceSlots[slot] as number) - 1;
    if (guess >= 0 && bytesEqual(keys[guess] as Buffer, db, ds, de)) {
      (this.deviceCounts[guess] as number)++;
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      if (bytesEqual(keys[i] as Buffer, db, ds, de)) {
        (this.deviceCounts[i] as number)++;
        this.deviceSlots[slot] = i + 1;
        return;
      }
    }
    if (keys.length < MAX_DEVICES) {
      // A copy: the bytes are a view into the parser's buffer.
      this.deviceKeys = [...keys, Buffer.from(db.subarray(ds, de))];
      this.deviceNames.push(db.toString('utf8', ds, de));
      this.deviceCounts.push(1);
      this.deviceSlots[slot] = keys.length + 1;
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
        this.accept(et, ms, viewOn(u), 0, u.length, viewOn(p), 0, p.length, d, 0, d.length);
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
