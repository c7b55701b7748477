import type { IngestError } from '@recomart/jobs';
import type { WriteHandle } from './file-system.js';
import { ioFailure } from './lake-errors.js';

/**
 * Finished files a session collects before it fsyncs them together, in the
 * background while it keeps writing. Bounds the descriptors a session holds
 * open however many files it writes.
 * @defaultValue 64
 */
export const SYNC_BATCH_FILES = 64;

/**
 * Batches being fsynced at once; a file finishing beyond that waits (so a
 * slow disk slows the writer down instead of piling up open files).
 * @defaultValue 2
 */
export const MAX_SYNC_BATCHES = 2;

/**
 * fsyncs in flight within one batch. Concurrent fsyncs let the kernel share
 * device flushes (and, on journalled filesystems, journal commits), so a
 * thousand small files become durable much sooner than one after another.
 * @defaultValue 16
 */
export const FILE_SYNC_CONCURRENCY = 16;

/** A finished file: its name in the version (for messages) and its still-open handle. */
interface FinishedFile {
  name: string;
  handle: WriteHandle;
}

/**
 * fsyncs and closes every file of `files`, `FILE_SYNC_CONCURRENCY` at a
 * time. Every handle is closed, whatever happens; the first failure (named
 * after its file) is thrown once all are closed, and no file is fsynced
 * after it.
 */
async function syncAll(files: readonly FinishedFile[]): Promise<void> {
  let next = 0;
  let failure: IngestError | undefined;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const { name, handle } = files[next++] as FinishedFile;
      try {
        if (failure === undefined) await handle.sync();
      } catch (err) {
        failure ??= ioFailure(err, `flushing staged file ${JSON.stringify(name)}`);
      }
      try {
        await handle.close();
      } catch (err) {
        failure ??= ioFailure(err, `closing staged file ${JSON.stringify(name)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_SYNC_CONCURRENCY, files.length) }, lane));
  if (failure !== undefined) throw failure;
}

/**
 * Makes the finished files of one write session durable: each file's open
 * handle is handed over when its last byte is written, and fsynced (then
 * closed) with others in batches, in the background, several at a time.
 * `flush()` (before publishing) fsyncs the rest and reports the first
 * failure; `discard()` (when the staging goes) closes whatever is left.
 */
export class FileSyncer {
  private batch: FinishedFile[] = [];
  private readonly running = new Set<Promise<void>>();
  private failure: IngestError | undefined;
  /** Set by flush or discard: a handle handed over later is only closed. */
  private sealed = false;

  /**
   * Takes over the open handle of a finished file. Resolves at once, or once
   * fewer than MAX_SYNC_BATCHES batches are being fsynced; rejects with an
   * earlier batch's failure (the session then fails).
   */
  async add(name: string, handle: WriteHandle): Promise<void> {
    if (this.sealed) {
      await handle.close();
      return;
    }
    this.batch.push({ name, handle });
    if (this.batch.length >= SYNC_BATCH_FILES) this.startBatch();
    while (this.running.size > MAX_SYNC_BATCHES) await Promise.race(this.running);
    if (this.failure !== undefined) throw this.failure;
  }

  private startBatch(): void {
    const files = this.batch;
    this.batch = [];
    if (files.length === 0) return;
    const run: Promise<void> = syncAll(files)
      .catch((err: unknown) => {
        this.failure ??= ioFailure(err, 'flushing staged files');
      })
      .finally(() => {
        this.running.delete(run);
      });
    this.running.add(run);
  }

  private async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  /** fsyncs (and closes) every file handed over; throws the first failure. */
  async flush(): Promise<void> {
    this.sealed = true;
    this.startBatch();
    await this.settle();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Closes every handle without fsyncing what is left (the staging is being removed). */
  async discard(): Promise<void> {
    this.sealed = true;
    const left = this.batch;
    this.batch = [];
    await Promise.all(left.map((f) => f.handle.close().catch(() => undefined)));
    await this.settle();
  }
}
