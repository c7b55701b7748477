import type { Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { LineIndex } from './line-index.js';
import { createRecordParser, type RecordHandlers } from './record-parser.js';
import type { HeadInspector } from './text-head.js';
import type { TextReader } from './text-reader.js';

/** How far apart (in bytes) the kept text is trimmed. */
const RELEASE_EVERY = 256 * 1024;

/**
 * csv-parser over the whole text (raw mode), behind a `LineIndex` that
 * counts lines and keeps the bytes a rejected record's line and text are
 * found in: the reader before the fast path, kept as the oracle the
 * differential test compares `FastRecordReader` with.
 */
export class CsvParserReader implements TextReader {
  private readonly index: LineIndex;
  private readonly parser: Transform;
  readonly done: Promise<void>;
  private headerSeen = false;
  private records = false;
  /** Start of the last record handed over. */
  private lastStart = 0;
  private releaseAt = RELEASE_EVERY;
  private readonly maxRowBytes: number;

  constructor(options: { maxRowBytes: number; inspect?: HeadInspector; handlers: RecordHandlers }) {
    this.index = new LineIndex(options.inspect);
    this.maxRowBytes = options.maxRowBytes;
    const { handlers } = options;
    this.parser = createRecordParser(options.maxRowBytes, {
      onHeader: (names) => {
        this.headerSeen = true;
        handlers.onHeader(names);
      },
      onRecord: (record, cells, byteOffset) => {
        if (this.parser.destroyed) return;
        this.records = true;
        this.lastStart = byteOffset;
        handlers.onRecord(record, cells, byteOffset);
      },
    });
    this.done = Promise.all([pipeline(this.index, this.parser), finished(this.parser)]).then(() => undefined);
  }

  get input(): Writable {
    return this.index;
  }

  get lines(): number {
    return this.index.lines;
  }

  get blankLines(): number {
    return this.index.blankLines;
  }

  get quotedLineBreaks(): number {
    return this.index.quotedLineBreaks;
  }

  get currentLine(): number {
    return this.index.currentLine;
  }

  get lastLineTerminated(): boolean {
    return this.index.endsWithLineEnd;
  }

  lineAt(offset: number): number {
    return this.index.lineAt(offset);
  }

  recordAt(offset: number): string {
    return this.index.recordAt(offset);
  }

  release(offset: number): void {
    if (offset < this.releaseAt) return;
    this.index.release(offset);
    this.releaseAt = offset + RELEASE_EVERY;
  }

  stop(err: Error): void {
    this.parser.destroy(err);
  }

  holdUntil(wait: (resume: () => void) => void): void {
    this.parser.pause();
    wait(() => this.parser.resume());
  }

  overlongRow(): { line: number; openQuote: boolean } {
    const from = this.records ? this.index.recordEnd(this.lastStart) : this.headerSeen ? this.index.recordEnd(0) : 0;
    // Open at the limit: within the row's first maxRowBytes bytes (csv-parser fails on the next one).
    return { line: this.index.lineAt(from), openQuote: this.index.openQuoteFrom(from, from + this.maxRowBytes) };
  }

  unterminatedQuoteLine(): number | undefined {
    return this.records && this.index.openQuoteFrom(this.lastStart) ? this.index.lineAt(this.lastStart) : undefined;
  }
}
