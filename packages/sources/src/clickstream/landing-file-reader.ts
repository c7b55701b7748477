import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, addAbortSignal } from 'node:stream';
import { TransientError } from '@recomart/jobs';
import { MARKER_NAME } from './landing-rules.js';
import { sniffNotCsv } from './not-csv.js';

/** A landing file as the listing saw it (lstat: a link is never followed). */
export interface ListedFile {
  /** Its path on disk. */
  readonly path: string;
  /** How messages name it (already escaped). */
  readonly display: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly dev: number;
  readonly ino: number;
  readonly gzip: boolean;
  /** The day's marker vouches for it: a last line without a newline is whole. */
  readonly complete: boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function sameFile(st: Stats, f: ListedFile): boolean {
  return st.isFile() && st.dev === f.dev && st.ino === f.ino;
}

/**
 * Reads a listed landing file through the descriptor it opened, checking that
 * it is still the listed regular file and that it did not change:
 *
 * - opened with `O_NOFOLLOW | O_NONBLOCK`: a link put in its place is not
 *   followed, a FIFO put in its place does not block; `fstat` of that
 *   descriptor must show the listed inode, size and mtime (no check-then-use race);
 * - exactly the listed size is read; at the end `fstat` again: the same size
 *   and mtime, else it changed while it was read;
 * - a plain-text file must end in a line end unless the day is marked
 *   complete: a torn last line is an export still being written. (A gzip
 *   file proves its own end with its trailer; a file whose first bytes are
 *   not CSV text at all is left to the parser's verdict.)
 *
 * Every failure is a TransientError: a later attempt lists the folder again.
 */
export class LandingFileReader extends Readable {
  private position = 0;
  private lastByte = -1;
  /** The first bytes are not CSV text at all (binary, UTF-16, gzip): the parser says so; a torn end means nothing then. */
  private notText = false;
  private constructor(
    private readonly handle: FileHandle,
    private readonly file: ListedFile,
    chunkBytes: number,
  ) {
    super({ highWaterMark: chunkBytes });
  }

  static async open(file: ListedFile, chunkBytes: number, signal: AbortSignal): Promise<LandingFileReader> {
    let handle: FileHandle;
    try {
      handle = await open(file.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new TransientError(`${file.display} became a symbolic link after it was listed; not followed`);
      if (code === 'ENOENT') throw new TransientError(`${file.display} vanished after it was listed`);
      throw new TransientError(`cannot open ${file.display}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const st = await handle.stat();
      if (!sameFile(st, file)) throw new TransientError(`${file.display} was replaced after it was listed; not read`);
      if (st.size !== file.size || st.mtimeMs !== file.mtimeMs) {
        throw new TransientError(`${file.display} changed after it was listed: listed with ${file.size} bytes, now ${st.size}`);
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    const reader = new LandingFileReader(handle, file, chunkBytes);
    addAbortSignal(signal, reader);
    return reader;
  }

  override _read(size: number): void {
    void this.pull(size);
  }

  private async pull(size: number): Promise<void> {
    try {
      const want = Math.min(Math.max(size, this.readableHighWaterMark), this.file.size - this.position);
      if (want === 0) {
        await this.finalCheck();
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await this.handle.read(buffer, 0, want, this.position);
      if (bytesRead === 0) throw this.changed(`listed with ${this.file.size} bytes, read ${this.position}`);
      if (this.position === 0 && !this.file.gzip) this.notText = sniffNotCsv(buffer.subarray(0, bytesRead), false) !== undefined;
      this.position += bytesRead;
      this.lastByte = buffer[bytesRead - 1] ?? this.lastByte;
      this.push(bytesRead === want ? buffer : buffer.subarray(0, bytesRead));
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private changed(how: string): TransientError {
    return new TransientError(`${this.file.display} changed while it was read: ${how}`);
  }

  private async finalCheck(): Promise<void> {
    const st = await this.handle.stat();
    if (st.size !== this.file.size) throw this.changed(`listed with ${this.file.size} bytes, now ${st.size}`);
    if (st.mtimeMs !== this.file.mtimeMs) throw this.changed(`modified at ${st.mtime.toISOString()}, after the listing`);
    if (!this.file.complete && !this.file.gzip && !this.notText && this.file.size > 0 && this.lastByte !== LF && this.lastByte !== CR) {
      throw new TransientError(`${this.file.display} ends in the middle of a line and the day has no ${MARKER_NAME} marker: still being written?`);
    }
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.handle.close().then(
      () => callback(err),
      (closeErr: unknown) => callback(err ?? (closeErr as Error)),
    );
  }
}
