import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { IngestError, TransientError } from '@recomart/jobs';
import type { LakeFileSystem, WriteHandle } from './file-system.js';
import { ioFailure } from './lake-errors.js';
import { ThreadedSha256 } from './threaded-sha256.js';
import type { FileSink, ManifestFile } from './types.js';

/**
 * Buffer size of a staged file's stream: `write()` returns false (backpressure)
 * beyond this much unwritten data.
 * @defaultValue 256 KiB
 */
export const STAGED_FILE_HIGH_WATER_MARK = 256 * 1024;

/** What a staged file needs from its session. */
export interface StagedFileOptions {
  /** The name inside the version (already checked). */
  name: string;
  origin: string;
  /** Absolute path in staging (already checked). */
  path: string;
  fs: LakeFileSystem;
  /** Runs before the file is created: makes the staging folders. */
  prepare(): Promise<void>;
  /**
   * Takes over the open handle of a file whose bytes are all written: the
   * session fsyncs and closes it before anything is published, with its
   * other finished files, several at a time (far cheaper than one fsync
   * after another as each file ends). Rejects with an earlier fsync failure.
   */
  release(handle: WriteHandle): Promise<void>;
  /** Called when the file failed because of an I/O error; resolves once the session cleaned up. */
  onIoError(err: IngestError): Promise<void>;
}

/**
 * The `Writable` of one staged file: hashes and counts every chunk as it is
 * written through to disk, one write in flight at a time (so the producer
 * feels backpressure and nothing is buffered whole); on `end()` it hands the
 * open file to its session, which fsyncs it before publishing. An I/O error
 * becomes a retryable `TransientError`.
 *
 * The sha256 runs beside the caller (`ThreadedSha256`): each chunk is copied
 * into a ring the process's hashing thread reads, so a large file's hashing
 * takes no time from the thread that parses it; a write completes once its
 * bytes are on their way to disk and copied for the hash (the ring's room is
 * the hash's backpressure). A file shorter than `THREADED_SHA256_MIN_BYTES`
 * is hashed here when it ends, with no thread round trip.
 */
class HashingFileWriter extends Writable {
  private handle: WriteHandle | undefined;
  private readonly hash = new ThreadedSha256();
  bytes = 0;
  /** The sha256 of the bytes taken: the whole file's once finished, the bytes it got once closed unfinished (unset when hashing failed). */
  sha256: string | undefined;
  /** Set when a filesystem call failed (not when the writer was destroyed by its user). */
  ioError: IngestError | undefined;

  constructor(private readonly options: StagedFileOptions) {
    super({ highWaterMark: STAGED_FILE_HIGH_WATER_MARK, decodeStrings: true });
  }

  private fail(err: unknown, action: string): IngestError {
    this.ioError ??= ioFailure(err, `${action} ${JSON.stringify(this.options.name)}`);
    return this.ioError;
  }

  /** The hashing thread failed (not an I/O error: the file on disk is fine, its digest is not known). */
  private hashFailure(err: unknown): TransientError {
    const msg = err instanceof Error ? err.message : String(err);
    return new TransientError(`lake: hashing staged file ${JSON.stringify(this.options.name)} failed: ${msg}`, { cause: err });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.options
      .prepare()
      .then(() => this.options.fs.createFile(this.options.path))
      .then(
        (handle) => {
          this.handle = handle;
          callback();
        },
        // An ingest error here is the session refusing (aborted, failed), not an I/O error.
        (err: unknown) => callback(err instanceof IngestError ? err : this.fail(err, 'creating staged file')),
      );
  }

  private writeChunk(chunk: Buffer, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    if (!handle) {
      callback(new TransientError(`lake: staged file ${JSON.stringify(this.options.name)} is not open`));
      return;
    }
    let copied: Promise<void> | undefined;
    try {
      copied = this.hash.update(chunk);
    } catch (err) {
      callback(this.hashFailure(err));
      return;
    }
    const written = handle.write(chunk).then(
      () => {
        this.bytes += chunk.byteLength;
      },
      (err: unknown) => {
        throw this.fail(err, 'writing staged file');
      },
    );
    const both =
      copied === undefined
        ? written
        : Promise.all([
            written,
            copied.catch((err: unknown) => {
              throw this.hashFailure(err);
            }),
          ]);
    both.then(
      () => callback(),
      (err: unknown) => callback(err instanceof Error ? err : new TransientError(String(err))),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.writeChunk(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    if (!handle) {
      callback(new TransientError(`lake: staged file ${JSON.stringify(this.options.name)} is not open`));
      return;
    }
    this.handle = undefined;
    Promise.all([
      this.options.release(handle).catch((err: unknown) => {
        throw this.fail(err, 'flushing staged file');
      }),
      this.hash.digest().catch((err: unknown) => {
        throw this.hashFailure(err);
      }),
    ]).then(
      ([, sha256]) => {
        this.sha256 = sha256;
        callback();
      },
      (err: unknown) => callback(err instanceof Error ? err : new TransientError(String(err))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    // Ends the hash too (after a finish: the same digest): the digest of the bytes taken, for a quarantine listing.
    const hashed = this.hash.digest().then(
      (sha256) => {
        this.sha256 ??= sha256;
      },
      () => undefined,
    );
    const closed = handle ? handle.close().catch(() => undefined) : undefined;
    Promise.all([hashed, closed]).then(
      () => callback(error),
      () => callback(error),
    );
  }
}

/** What a write session sees of each of its files, however it is written. */
export interface SessionFile {
  readonly options: StagedFileOptions;
  /** Resolves with the file's manifest entry once finished; rejects when it ended otherwise. */
  readonly done: Promise<ManifestFile>;
  /** Resolves once the file let go of its handle (closed, or handed to the session), however it ended. */
  readonly closed: Promise<void>;
  /** Whether `closed` has resolved. */
  readonly isClosed: boolean;
  /** Set once finished successfully. */
  readonly result: ManifestFile | undefined;
  /** Set once it ended without finishing. */
  readonly failure: Error | undefined;
  /** Set when a filesystem call failed (not when the file was stopped or refused). */
  readonly ioError: IngestError | undefined;
  /** Ends an unfinished file for the session (its `done` rejects with `reason`); no-op once settled. */
  stop(reason: Error): void;
  /**
   * Bytes written so far and their sha256 (for a quarantine listing of an
   * unfinished file), read once the file is closed; the sha256 is left out
   * when it is not known (the hashing failed).
   */
  progress(): { bytes: number; sha256?: string };
}

/** A file streamed into a session's staging area (`createFile`). */
export class StagedFile implements FileSink, SessionFile {
  readonly stream: HashingFileWriter;
  readonly done: Promise<ManifestFile>;
  /** Resolves once the stream closed (file handle released), however it ended. */
  readonly closed: Promise<void>;
  /** Set once finished successfully. */
  result: ManifestFile | undefined;
  /** Set once it ended without finishing. */
  failure: Error | undefined;
  /** Why the session stopped it (abort, quarantine, another file's I/O error). */
  private stopReason: Error | undefined;

  constructor(readonly options: StagedFileOptions) {
    const stream = new HashingFileWriter(options);
    this.stream = stream;
    let finished = false;
    this.closed = new Promise<void>((resolve) => stream.once('close', resolve));
    this.done = new Promise<ManifestFile>((resolve, reject) => {
      stream.once('finish', () => {
        finished = true;
        this.result = { path: options.name, bytes: stream.bytes, sha256: stream.sha256 as string, origin: options.origin };
        resolve(this.result);
      });
      stream.once('close', () => {
        if (finished) return;
        const ioError = stream.ioError;
        const err =
          ioError ??
          this.stopReason ??
          (stream.errored instanceof Error ? stream.errored : undefined) ??
          new TransientError(`lake: staged file ${JSON.stringify(options.name)} was closed before it was ended`);
        this.failure = err;
        if (ioError) {
          options.onIoError(ioError).then(
            () => reject(err),
            () => reject(err),
          );
        } else {
          reject(err);
        }
      });
    });
    // `done` is where errors are reported: a caller that only writes (no pipeline, no
    // 'error' listener) and awaits `done` must not crash the process with an unhandled
    // 'error' event, nor with a rejection it never awaited.
    stream.on('error', () => undefined);
    this.done.catch(() => undefined);
  }

  get isClosed(): boolean {
    return this.stream.closed;
  }

  get ioError(): IngestError | undefined {
    return this.stream.ioError;
  }

  /** Ends an unfinished file for the session (its `done` rejects with `reason`); no-op once settled. */
  stop(reason: Error): void {
    if (!this.pending) return;
    this.stopReason ??= reason;
    this.stream.destroy();
  }

  /** Whether the stream is still open for writing (neither finished nor closed). */
  get pending(): boolean {
    return this.result === undefined && this.failure === undefined;
  }

  /** Bytes written and the sha256 of the bytes taken (known once closed; left out before, or when the hashing failed). */
  progress(): { bytes: number; sha256?: string } {
    const sha256 = this.stream.sha256;
    return sha256 === undefined ? { bytes: this.stream.bytes } : { bytes: this.stream.bytes, sha256 };
  }
}

/** sha256 of no bytes: the progress of a whole file not written yet. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/**
 * A file whose bytes are all known up front (`writeFile`: one API page, a
 * small report): created, written in one go, hashed, and handed to the
 * session for its fsync, with none of a stream's machinery. Fails and stops
 * exactly like a streamed file: an I/O error is a retryable
 * `TransientError` naming the file, reported once the session cleaned up.
 */
export class WholeStagedFile implements SessionFile {
  readonly done: Promise<ManifestFile>;
  readonly closed: Promise<void>;
  isClosed = false;
  result: ManifestFile | undefined;
  failure: Error | undefined;
  ioError: IngestError | undefined;
  private stopReason: Error | undefined;
  private written = 0;
  private sha256 = EMPTY_SHA256;

  constructor(
    readonly options: StagedFileOptions,
    data: Uint8Array,
  ) {
    let markClosed: () => void = () => undefined;
    this.closed = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    this.done = this.run(data, markClosed);
    this.done.catch(() => undefined);
  }

  private async run(data: Uint8Array, markClosed: () => void): Promise<ManifestFile> {
    try {
      this.result = await this.write(data);
    } catch (err) {
      this.failure = this.ioError ?? this.stopReason ?? (err instanceof Error ? err : new TransientError(String(err)));
    } finally {
      this.isClosed = true;
      markClosed();
    }
    if (this.result !== undefined) return this.result;
    // Like a streamed file: an I/O error is reported once the session has cleaned up.
    if (this.ioError !== undefined) await this.options.onIoError(this.ioError).catch(() => undefined);
    throw this.failure ?? new TransientError(`lake: staged file ${JSON.stringify(this.options.name)} was not written`);
  }

  private fail(err: unknown, action: string): IngestError {
    this.ioError ??= ioFailure(err, `${action} ${JSON.stringify(this.options.name)}`);
    return this.ioError;
  }

  private checkStopped(): void {
    if (this.stopReason !== undefined) throw this.stopReason;
  }

  private async write(data: Uint8Array): Promise<ManifestFile> {
    const o = this.options;
    try {
      await o.prepare();
    } catch (err) {
      // An ingest error here is the session refusing (aborted, failed), not an I/O error.
      throw err instanceof IngestError ? err : this.fail(err, 'creating staged file');
    }
    this.checkStopped();
    const sha256 = createHash('sha256').update(data).digest('hex');
    let handle: WriteHandle;
    try {
      handle = await o.fs.writeNewFile(o.path, data);
    } catch (err) {
      throw this.fail(err, (err as NodeJS.ErrnoException).syscall === 'open' ? 'creating staged file' : 'writing staged file');
    }
    this.written = data.byteLength;
    this.sha256 = sha256;
    try {
      this.checkStopped();
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    try {
      await o.release(handle);
    } catch (err) {
      throw this.fail(err, 'flushing staged file');
    }
    this.checkStopped();
    return { path: o.name, bytes: this.written, sha256: this.sha256, origin: o.origin };
  }

  stop(reason: Error): void {
    if (this.result !== undefined || this.failure !== undefined) return;
    this.stopReason ??= reason;
  }

  progress(): { bytes: number; sha256: string } {
    return { bytes: this.written, sha256: this.sha256 };
  }
}
