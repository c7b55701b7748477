import type { FileSink, ManifestFile, WriteSession } from '@recomart/lake';
import type { RejectReason } from './contract.js';

/** One line of `_rejected.ndjson`. */
export interface RejectedRow {
  /** The lake file the row is in. */
  file: string;
  /** 1-based line where the row starts (line 1 is the header). */
  line: number;
  /** The row as it was written, without its line ending. */
  raw: string;
  /** Why, as codes (the manifest counts them)… */
  reasons: readonly RejectReason[];
  /** …and as exact one-line messages, in the same order. */
  messages: readonly string[];
}

/**
 * `_rejected.ndjson` of the version being written: created on the first
 * rejected row only (a clean day has no such file), written with backpressure.
 */
export class RejectedRows {
  static readonly fileName = '_rejected.ndjson';
  private sink: FileSink | undefined;
  private written = 0;

  constructor(
    private readonly session: WriteSession,
    private readonly origin: string,
  ) {}

  /** Lines written so far. */
  get lines(): number {
    return this.written;
  }

  /** Appends one row; false when the caller should wait for `drain` before writing more. */
  write(row: RejectedRow): boolean {
    this.sink ??= this.session.createFile(RejectedRows.fileName, this.origin);
    this.written++;
    return this.sink.stream.write(`${JSON.stringify(row)}\n`);
  }

  /** Calls `fn` once the file can take more, or is gone (a failed write session closes it). */
  onceDrain(fn: () => void): void {
    const stream = this.sink?.stream;
    if (!stream || stream.destroyed) {
      fn();
      return;
    }
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      fn();
    };
    stream.on('drain', done);
    stream.on('close', done);
  }

  /** Ends the file; its manifest entry, or undefined when no row was rejected. */
  async close(): Promise<ManifestFile | undefined> {
    const sink = this.sink;
    if (!sink) return undefined;
    sink.stream.end();
    return sink.done;
  }
}
