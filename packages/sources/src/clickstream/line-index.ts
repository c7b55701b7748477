import { Transform, type TransformCallback } from 'node:stream';
import { TextHead, type HeadInspector } from './text-head.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** What a line holds: nothing, a lone CR (both blank to csv-parser), or anything else. */
const LINE_EMPTY = 0;
const LINE_CR = 1;
const LINE_TEXT = 2;
type LineShape = typeof LINE_EMPTY | typeof LINE_CR | typeof LINE_TEXT;

interface Slice {
  readonly buf: Buffer;
  /** Offset of buf[0] in the stream (after the BOM). */
  readonly start: number;
  /** 1-based line number of buf[0]. */
  readonly line: number;
}


/**
 * The stage in front of csv-parser, on the (decompressed) CSV text. It strips a
 * UTF-8 BOM, lets the caller inspect the first bytes, counts lines, and keeps
 * the recent bytes (from the oldest record still unprocessed to the head) so a
 * rejected record's original text and line number can be recovered from
 * csv-parser's byte offsets. Memory stays bounded: the caller `release`s what
 * it has processed.
 *
 * Chunks that contain a quote are handed on as copies: csv-parser unescapes
 * `""` in place in the buffer it parses, and the kept bytes must stay original.
 *
 * The first line goes to the parser in one piece: csv-parser decides between
 * LF, CRLF and CR line endings on the header line and reads a CR at the very
 * end of a chunk as a CR-only file (so a CRLF split between two chunks, as a
 * download may deliver it, would break the whole parse).
 */
export class LineIndex extends Transform {
  private slices: Slice[] = [];
  private offset = 0;
  private line = 1;
  private readonly head: TextHead;
  private endsWithLf = false;
  /** Whether a quote is open at the head (csv-parser's quoted state: the parity of all quotes so far). */
  private quoted = false;
  private breaksInQuotes = 0;
  private blank = 0;
  /** What the line at the head holds so far. */
  private lineShape: LineShape = LINE_EMPTY;
  /** Whether the line at the head started inside a quoted field. */
  private lineInQuotes = false;
  /** The last `lineAt` answer, to count on from. */
  private memo: { buf: Buffer; offset: number; line: number } | undefined;

  constructor(inspect?: HeadInspector) {
    super({ readableHighWaterMark: 4, writableHighWaterMark: 4, readableObjectMode: true, writableObjectMode: true });
    this.head = new TextHead(inspect);
  }

  /** Bytes passed on so far (after the BOM). */
  get bytes(): number {
    return this.offset;
  }

  /** The line number at the head (the line being read). */
  get currentLine(): number {
    return this.line;
  }

  /** Whether the text so far ends with an LF. */
  get endsWithLineEnd(): boolean {
    return this.endsWithLf;
  }

  /** Line ends inside quoted fields so far: lines that continue a record rather than start one. */
  get quotedLineBreaks(): number {
    return this.breaksInQuotes;
  }

  /** Lines seen so far; a last line without a line ending counts. */
  get lines(): number {
    return this.offset === 0 ? 0 : this.endsWithLf ? this.line - 1 : this.line;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let text: Buffer | undefined;
    try {
      text = this.head.take(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (text !== undefined) this.add(text);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    let text: Buffer | undefined;
    try {
      text = this.head.finish();
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (text !== undefined) this.add(text);
    cb();
  }

  private add(buf: Buffer): void {
    if (buf.length === 0) return;
    this.slices.push({ buf, start: this.offset, line: this.line });
    const quote = buf.indexOf(QUOTE);
    this.classifyLines(buf, quote);
    this.offset += buf.length;
    this.endsWithLf = buf[buf.length - 1] === LF;
    this.push(quote === -1 ? buf : Buffer.from(buf));
  }

  /**
   * Counts the lines of `buf` and sorts their ends, from the bytes alone (not
   * from the parser, so the two can be checked against each other): an LF
   * inside a quoted field (csv-parser's quoted state is the parity of all
   * quotes so far) starts a continuation line; a line that starts outside
   * quotes and holds nothing or a lone CR is blank.
   */
  private classifyLines(buf: Buffer, firstQuote: number): void {
    let q = firstQuote;
    let from = 0;
    for (let lf = buf.indexOf(LF); lf !== -1; lf = buf.indexOf(LF, lf + 1)) {
      for (; q !== -1 && q < lf; q = buf.indexOf(QUOTE, q + 1)) this.quoted = !this.quoted;
      this.extendLine(buf, from, lf);
      if (this.quoted) {
        this.breaksInQuotes++;
        this.lineInQuotes = true;
      } else {
        if (!this.lineInQuotes && this.lineShape !== LINE_TEXT && this.line > 1) this.blank++;
        this.lineInQuotes = false;
      }
      this.lineShape = LINE_EMPTY;
      this.line++;
      from = lf + 1;
    }
    for (; q !== -1; q = buf.indexOf(QUOTE, q + 1)) this.quoted = !this.quoted;
    this.extendLine(buf, from, buf.length);
  }

  /** Adds `buf[from, to)` to what the current line holds so far. */
  private extendLine(buf: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    this.lineShape = n === 1 && this.lineShape === LINE_EMPTY && buf[from] === CR ? LINE_CR : LINE_TEXT;
  }

  /** Blank lines after the header (a last line without a line ending counts). */
  get blankLines(): number {
    const lastOpen = this.offset > 0 && !this.endsWithLf && !this.lineInQuotes && this.lineShape !== LINE_TEXT && this.line > 1;
    return this.blank + (lastOpen ? 1 : 0);
  }

  /** Forgets the bytes before `offset` (a processed record's start). */
  release(offset: number): void {
    const s = this.slices;
    let drop = 0;
    while (drop < s.length - 1 && (s[drop] as Slice).start + (s[drop] as Slice).buf.length <= offset) drop++;
    if (drop > 0) this.slices = s.slice(drop);
  }

  /**
   * The 1-based line number at a stream offset that is still kept. Lines are
   * counted natively (indexOf) from the last answer when asked in increasing
   * order, as rejected rows are, so many rejections cost one scan, not one each.
   */
  lineAt(offset: number): number {
    let from = 0;
    let line = 1;
    const memo = this.memo;
    for (const s of this.slices) {
      if (offset >= s.start + s.buf.length && s !== this.slices[this.slices.length - 1]) continue;
      if (memo !== undefined && memo.buf === s.buf && memo.offset <= offset) {
        from = memo.offset - s.start;
        line = memo.line;
      } else {
        line = s.line;
      }
      const end = Math.min(offset - s.start, s.buf.length);
      let i = s.buf.indexOf(LF, from);
      while (i !== -1 && i < end) {
        line++;
        i = s.buf.indexOf(LF, i + 1);
      }
      this.memo = { buf: s.buf, offset: s.start + end, line };
      return line;
    }
    return this.line;
  }

  /** The kept bytes from `from` on, slice by slice (no copying). */
  private *piecesFrom(from: number): Generator<Buffer> {
    for (const s of this.slices) {
      const end = s.start + s.buf.length;
      if (end <= from) continue;
      yield s.buf.subarray(Math.max(0, from - s.start));
    }
  }

  /**
   * Where the record starting at `from` ends: the offset of its LF (the first
   * one outside quotes, by quote parity as csv-parser reads it), or the end of
   * what was seen.
   */
  private lfOfRecord(from: number): { lf: number; found: boolean } {
    let quoted = false;
    let at = from;
    for (const piece of this.piecesFrom(from)) {
      for (let i = 0; i < piece.length; i++) {
        const c = piece[i];
        if (c === QUOTE) quoted = !quoted;
        else if (c === LF && !quoted) return { lf: at + i, found: true };
      }
      at += piece.length;
    }
    return { lf: at, found: false };
  }

  /** The kept bytes from `from` to `to`. */
  private bytesBetween(from: number, to: number): Buffer {
    const parts: Buffer[] = [];
    let at = from;
    for (const piece of this.piecesFrom(from)) {
      if (at >= to) break;
      parts.push(piece.subarray(0, Math.min(piece.length, to - at)));
      at += piece.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** The original text of the record starting at `from`, without its line ending. */
  recordAt(from: number): string {
    const { lf } = this.lfOfRecord(from);
    const bytes = this.bytesBetween(from, lf);
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, end);
  }

  /** The offset just after the record starting at `from` (after its LF), or the end of what was seen. */
  recordEnd(from: number): number {
    const { lf, found } = this.lfOfRecord(from);
    return found ? lf + 1 : lf;
  }

  /** Whether the kept bytes from `from` up to `to` (or to the end) hold an odd number of quotes (a quote left open). */
  openQuoteFrom(from: number, to = Infinity): boolean {
    let n = 0;
    let at = from;
    for (const piece of this.piecesFrom(from)) {
      const end = Math.min(piece.length, to - at);
      for (let i = piece.indexOf(QUOTE); i !== -1 && i < end; i = piece.indexOf(QUOTE, i + 1)) n++;
      at += piece.length;
      if (at >= to) break;
    }
    return n % 2 === 1;
  }

}
