import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { COLUMNS } from './contract.js';
import { createRecordParserSync, type RawRecord, type RecordParser } from './record-parser.js';
import type { TextReader } from './text-reader.js';
import { TextHead, type HeadInspector } from './text-head.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const COMMA = 44;
const FIELDS = COLUMNS.length;

/** Where the fast reader sends what it reads, in file order. */
export interface FastRecordHandlers {
  /** The header names in file order (from csv-parser). */
  onHeader(names: readonly string[]): void;
  /**
   * A plain record (no quote), straight from the text: `cells` fields, the first
   * five in file order at `buf[cut[2i], cut[2i + 1])`; `order[c]` is the file
   * position of contract column `c`. `record()` builds it as csv-parser would.
   * Views into `buf` are valid during the call only.
   */
  onPlain(buf: Buffer, cut: Int32Array, order: Uint8Array, cells: number, byteOffset: number, record: () => RawRecord): void;
  /** A record csv-parser parsed (one holding a quote). */
  onRecord(record: RawRecord, cells: number, byteOffset: number): void;
}

export interface FastRecordReaderOptions {
  readonly maxRowBytes: number;
  readonly inspect?: HeadInspector;
  readonly handlers: FastRecordHandlers;
}

/**
 * The clickstream text reader's fast path. Record ends are found as csv-parser
 * finds them (an LF outside quotes, where "inside quotes" is the parity of all
 * quotes so far), with the native `Buffer.indexOf`. A line without a quote is
 * split on its commas and handed over as byte offsets: no string, no object
 * per good row. The header, and every record holding a quote, goes whole to
 * csv-parser in raw mode (the parser of record for quoted CSV), in order with
 * the plain lines around it. The row size limit is checked here, on every
 * record's bytes with its line ending, as csv-parser checks it.
 *
 * The same results as csv-parser over the whole text (`CsvParserReader`):
 * a differential test compares the two on thousands of generated inputs.
 */
export class FastRecordReader extends Writable implements TextReader {
  private readonly head: TextHead;
  private readonly parser: RecordParser = createRecordParserSync();
  private readonly handlers: FastRecordHandlers;
  private readonly maxRowBytes: number;
  /** Set by `holdUntil`: what the next chunk waits for. */
  private held: ((resume: () => void) => void) | undefined;
  /** Stream offset of the chunk being scanned. */
  private offset = 0;
  /** Line number of the next record to start. */
  private line = 1;
  private lfs = 0;
  private blank = 0;
  private breaksInQuotes = 0;
  private lastByte = -1;
  private headerDone = false;
  private readonly order = new Uint8Array(FIELDS);
  private readonly cut = new Int32Array(2 * FIELDS);
  /** A record begun in an earlier chunk: its bytes so far, and where it starts. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingQuoted = false;
  private pendingHasQuote = false;
  private pendingOffset = 0;
  /** The quote state at the end of the last `endOfRecord` that found no end. */
  private scanQuoted = false;
  /** The record being handed over (for `lineAt`, `recordAt`). */
  private curBuf: Buffer = Buffer.alloc(0);
  private curStart = 0;
  private curEnd = 0;
  /** End of the plain line being handed over, without its CR. */
  private curPlainEnd = 0;
  private curLine = 1;
  private curOffset = 0;
  private overlong: { line: number; openQuote: boolean } | undefined;
  private headerNames: readonly string[] = [];
  private unterminated: number | undefined;
  /** Set once the reader is destroyed (a handler may stop it mid-chunk): a field, read per record, where `destroyed` is a getter. */
  private halted = false;

  constructor(options: FastRecordReaderOptions) {
    super({ highWaterMark: 4, objectMode: true });
    this.head = new TextHead(options.inspect);
    this.handlers = options.handlers;
    this.maxRowBytes = options.maxRowBytes;
  }

  get input(): Writable {
    return this;
  }

  readonly done: Promise<void> = finished(this);

  stop(err: Error): void {
    this.destroy(err);
  }

  holdUntil(wait: (resume: () => void) => void): void {
    this.held = wait;
  }

  get lines(): number {
    return this.lfs + (this.lastByte !== -1 && this.lastByte !== LF ? 1 : 0);
  }

  get blankLines(): number {
    return this.blank;
  }

  get quotedLineBreaks(): number {
    return this.breaksInQuotes;
  }

  get currentLine(): number {
    let n = this.line;
    for (const b of this.pending) for (let i = b.indexOf(LF); i !== -1; i = b.indexOf(LF, i + 1)) n++;
    return n;
  }

  get lastLineTerminated(): boolean {
    return this.lastByte === LF;
  }

  overlongRow(): { line: number; openQuote: boolean } {
    return this.overlong ?? { line: this.line, openQuote: false };
  }

  unterminatedQuoteLine(): number | undefined {
    return this.unterminated;
  }

  release(): void {
    // Nothing is kept beyond the record being read.
  }

  /** Only the record being handed over can be asked about: a bug otherwise, failing the file (retried) rather than lying. */
  private checkCurrent(offset: number): void {
    if (offset !== this.curOffset) throw new Error(`FastRecordReader: asked about the record at ${offset} while handing over the one at ${this.curOffset}`);
  }

  /** The line the record being handed over starts on (`offset` is its start). */
  lineAt(offset: number): number {
    this.checkCurrent(offset);
    return this.curLine;
  }

  /** The original text of the record being handed over, without its line ending. */
  recordAt(offset: number): string {
    this.checkCurrent(offset);
    const end = this.curEnd > this.curStart && this.curBuf[this.curEnd - 1] === CR ? this.curEnd - 1 : this.curEnd;
    return this.curBuf.toString('utf8', this.curStart, end);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.halted = true;
    cb(err);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      const text = this.head.take(chunk);
      if (text !== undefined) this.scan(text);
    } catch (err) {
      cb(err as Error);
      return;
    }
    const wait = this.held;
    this.held = undefined;
    if (wait) wait(() => cb());
    else cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    try {
      const text = this.head.finish();
      if (text !== undefined) this.scan(text);
      if (this.pendingBytes > 0 && !this.halted) this.finishPending();
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb();
  }

  /**
   * The index of the LF that ends the record going on at `buf[from]` in quote
   * state `quoted`, or -1 when it runs past `buf` (`scanQuoted` then holds the
   * state at the end of `buf`).
   */
  private endOfRecord(buf: Buffer, from: number, quoted: boolean): number {
    let q = buf.indexOf(QUOTE, from);
    let lf = buf.indexOf(LF, from);
    for (;;) {
      if (lf === -1) {
        for (; q !== -1; q = buf.indexOf(QUOTE, q + 1)) quoted = !quoted;
        this.scanQuoted = quoted;
        return -1;
      }
      if (q !== -1 && q < lf) {
        quoted = !quoted;
        q = buf.indexOf(QUOTE, q + 1);
      } else if (quoted) {
        lf = buf.indexOf(LF, lf + 1);
      } else {
        return lf;
      }
    }
  }

  /** Fails the text: a record of more than `maxRowBytes` bytes (its line ending included), as csv-parser says it. */
  private tooLong(line: number, openQuote: boolean): Error {
    this.overlong = { line, openQuote };
    return new Error('Row exceeds the maximum size');
  }

  /** Quote parity of `buf[from, to)`, starting from `quoted`. */
  private static oddQuotes(buf: Buffer, from: number, quoted: boolean, to = buf.length): boolean {
    for (let q = buf.indexOf(QUOTE, from); q !== -1 && q < to; q = buf.indexOf(QUOTE, q + 1)) quoted = !quoted;
    return quoted;
  }

  /** Whether a quote is open at the limit: within the first maxRowBytes bytes of the row (`parts`, from `from` on). */
  private openAtLimit(parts: readonly Buffer[], from: number): boolean {
    let quoted = false;
    let left = this.maxRowBytes;
    for (const [i, part] of parts.entries()) {
      const start = i === 0 ? from : 0;
      const to = Math.min(part.length, start + left);
      quoted = FastRecordReader.oddQuotes(part, start, quoted, to);
      left -= to - start;
      if (left <= 0) break;
    }
    return quoted;
  }

  private scan(buf: Buffer): void {
    const n = buf.length;
    if (n === 0) return;
    let pos = 0;
    if (this.pendingBytes > 0) {
      const end = this.endOfRecord(buf, 0, this.pendingQuoted);
      const q0 = buf.indexOf(QUOTE);
      const hasQuote = this.pendingHasQuote || (q0 !== -1 && (end === -1 || q0 < end));
      const bytes = this.pendingBytes + (end === -1 ? n : end + 1);
      if (bytes > this.maxRowBytes) {
        throw this.tooLong(this.line, this.openAtLimit([...this.pending, buf], 0));
      }
      if (end === -1) {
        this.pending.push(buf);
        this.pendingBytes = bytes;
        this.pendingQuoted = this.scanQuoted;
        this.pendingHasQuote = hasQuote;
        this.advance(buf);
        return;
      }
      const record = Buffer.concat([...this.pending, buf.subarray(0, end + 1)]);
      this.pending = [];
      this.pendingBytes = 0;
      this.record(record, 0, record.length - 1, this.pendingOffset, hasQuote || !this.headerDone, false);
      pos = end + 1;
    }
    let q = buf.indexOf(QUOTE, pos);
    while (pos < n && !this.halted) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) break;
      if (!this.headerDone || (q !== -1 && q < lf)) {
        const end = this.endOfRecord(buf, pos, false);
        if (end === -1) break;
        if (end + 1 - pos > this.maxRowBytes) throw this.tooLong(this.line, this.openAtLimit([buf], pos));
        this.record(buf, pos, end, this.offset + pos, true, false);
        pos = end + 1;
        q = buf.indexOf(QUOTE, pos);
        continue;
      }
      if (lf + 1 - pos > this.maxRowBytes) throw this.tooLong(this.line, false);
      this.plain(buf, pos, lf, this.offset + pos);
      this.line++;
      this.lfs++;
      pos = lf + 1;
    }
    if (pos < n && !this.halted) {
      const quoted = FastRecordReader.oddQuotes(buf, pos, false);
      if (n - pos > this.maxRowBytes) throw this.tooLong(this.line, this.openAtLimit([buf], pos));
      this.pending = [buf.subarray(pos)];
      this.pendingBytes = n - pos;
      this.pendingQuoted = quoted;
      this.pendingHasQuote = q !== -1;
      this.pendingOffset = this.offset + pos;
    }
    this.advance(buf);
  }

  private advance(buf: Buffer): void {
    this.offset += buf.length;
    this.lastByte = buf[buf.length - 1] as number;
  }

  /** The last record, without a line ending. */
  private finishPending(): void {
    const record = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
    const viaParser = this.pendingHasQuote || !this.headerDone;
    this.pending = [];
    this.pendingBytes = 0;
    if (viaParser && this.pendingQuoted && this.headerDone) this.unterminated = this.line;
    this.record(record, 0, record.length, this.pendingOffset, viaParser, true);
  }

  /**
   * One record: `buf[start, end)` and its LF at `end` (none when `last`).
   * Through csv-parser (the header, a record holding a quote) or the plain split.
   */
  private record(buf: Buffer, start: number, end: number, offset: number, viaParser: boolean, last: boolean): void {
    if (!viaParser) {
      this.plain(buf, start, end, offset);
      if (!last) {
        this.line++;
        this.lfs++;
      }
      return;
    }
    let inner = 0;
    for (let i = buf.indexOf(LF, start); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) inner++;
    this.curBuf = buf;
    this.curStart = start;
    this.curEnd = end;
    this.curLine = this.line;
    this.curOffset = offset;
    // csv-parser unescapes "" in place: it parses a copy, so the original stays for `recordAt` and the lake copy.
    const parsed = this.parser.parse(Buffer.from(buf.subarray(start, last ? end : end + 1)), last);
    if ('header' in parsed) {
      this.headerDone = true;
      const names = parsed.header;
      this.headerNames = names;
      COLUMNS.forEach((c, i) => (this.order[i] = Math.max(0, names.indexOf(c))));
      this.handlers.onHeader(names);
    } else {
      this.handlers.onRecord(parsed.record, parsed.cells, offset);
    }
    this.breaksInQuotes += inner;
    this.line += inner + (last ? 0 : 1);
    this.lfs += inner + (last ? 0 : 1);
  }

  /** A line without a quote, `buf[start, lf)`: blank, or split on its commas (a trailing CR is not part of it). */
  private plain(buf: Buffer, start: number, lf: number, offset: number): void {
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    if (end === start) {
      this.blank++;
      return;
    }
    const cut = this.cut;
    cut[0] = start;
    let cells = 1;
    for (let c = buf.indexOf(COMMA, start); c !== -1 && c < end; c = buf.indexOf(COMMA, c + 1)) {
      if (cells < FIELDS) {
        cut[2 * cells - 1] = c;
        cut[2 * cells] = c + 1;
      }
      cells++;
    }
    cut[2 * Math.min(cells, FIELDS) - 1] = end;
    this.curBuf = buf;
    this.curStart = start;
    this.curEnd = lf;
    this.curLine = this.line;
    this.curOffset = offset;
    this.curPlainEnd = end;
    this.handlers.onPlain(buf, cut, this.order, cells, offset, this.currentPlainRecord);
  }

  /** The plain line being handed over as csv-parser's record (one function for all lines: nothing allocated per row). */
  private readonly currentPlainRecord = (): RawRecord => this.plainRecord(this.curBuf, this.curStart, this.curPlainEnd);

  /** A plain line as csv-parser's record: cells by header name, extra cells as `_5`, `_6`…; views into `buf`. */
  private plainRecord(buf: Buffer, start: number, end: number): RawRecord {
    const names = this.headerNames;
    const record: Record<string, Buffer> = Object.create(null) as Record<string, Buffer>;
    let from = start;
    let i = 0;
    for (;;) {
      const c = buf.indexOf(COMMA, from);
      const to = c === -1 || c >= end ? end : c;
      record[names[i] ?? `_${i}`] = buf.subarray(from, to);
      i++;
      if (to === end) break;
      from = to + 1;
    }
    return record;
  }

}
