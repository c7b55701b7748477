import { Transform, type TransformCallback } from 'node:stream';
import { TransientError } from '@recomart/jobs';

/** The time limits of one download's body. */
export interface DownloadLimits {
  /** `CLICKSTREAM_TIMEOUT_MS`: longest gap between two chunks while we are ready for more. */
  readonly idleMs: number;
  /** `CLICKSTREAM_DOWNLOAD_DEADLINE_MS`: longest time from the request to the body's last byte. */
  readonly deadlineMs: number;
  /** `CLICKSTREAM_MIN_BYTES_PER_S`: slowest average the body may keep after the grace (0: no minimum). */
  readonly minBytesPerSecond: number;
  /** `CLICKSTREAM_MIN_RATE_GRACE_MS`: how long the body may start slowly. */
  readonly graceMs: number;
}

/** How often the average rate is looked at (shorter for short graces, so tests stay quick). */
function rateCheckEvery(graceMs: number): number {
  return Math.min(1000, Math.max(20, Math.floor(graceMs / 4)));
}

/**
 * Passes a download's bytes on and fails it (a retryable TransientError
 * naming the limit, then `onFail`, which aborts the request) when:
 *
 * - the server sent nothing for `idleMs` while we were ready for more;
 * - the whole download, counted from `startedAt` (the request), passes
 *   `deadlineMs`, however steadily bytes come (a server dripping a byte a
 *   second never trips the idle limit);
 * - after `graceMs`, the body's average rate is under `minBytesPerSecond`.
 *
 * When our side is the slow one (the buffer is full because the lake or the
 * parser is busy), the wait is not the server's: the idle clock stops and that
 * time is left out of the rate. The deadline counts it: it bounds the job.
 */
export class DownloadGuard extends Transform {
  private idle: NodeJS.Timeout | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly rate: NodeJS.Timeout | undefined;
  private bytes = 0;
  private readonly bodyStart = Date.now();
  /** Time our side held the body back (its buffer full), finished holds only. */
  private heldMs = 0;
  private heldSince: number | undefined;
  /** The body has ended: no clock runs any more. */
  private ended = false;

  constructor(
    private readonly shown: string,
    private readonly limits: DownloadLimits,
    startedAt: number,
    private readonly contentLength: number | null,
    private readonly onFail: () => void,
  ) {
    super();
    this.armIdle();
    this.deadline = setTimeout(() => this.fail(this.overdue()), Math.max(0, limits.deadlineMs - (Date.now() - startedAt)));
    if (limits.minBytesPerSecond > 0) this.rate = setInterval(() => this.checkRate(), rateCheckEvery(limits.graceMs));
  }

  private received(): string {
    return `${this.bytes}${this.contentLength === null ? '' : ` of ${this.contentLength}`} bytes received`;
  }

  private overdue(): TransientError {
    return new TransientError(`download of ${this.shown} took longer than ${this.limits.deadlineMs} ms (CLICKSTREAM_DOWNLOAD_DEADLINE_MS): ${this.received()}`);
  }

  private checkRate(): void {
    const now = Date.now();
    const activeMs = now - this.bodyStart - this.heldMs - (this.heldSince === undefined ? 0 : now - this.heldSince);
    if (activeMs < this.limits.graceMs || activeMs <= 0) return;
    const perSecond = (this.bytes * 1000) / activeMs;
    if (perSecond >= this.limits.minBytesPerSecond) return;
    this.fail(
      new TransientError(
        `download of ${this.shown} too slow: ${this.received()} in ${(activeMs / 1000).toFixed(1)} s (${Math.floor(perSecond)} bytes/s), under CLICKSTREAM_MIN_BYTES_PER_S ${this.limits.minBytesPerSecond} after the ${this.limits.graceMs} ms grace (CLICKSTREAM_MIN_RATE_GRACE_MS)`,
      ),
    );
  }

  private fail(err: Error): void {
    if (this.destroyed) return;
    this.destroy(err);
    this.onFail();
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    if (this.ended) return;
    this.idle = setTimeout(
      () => this.fail(new TransientError(`download of ${this.shown} stalled: no data for ${this.limits.idleMs} ms (CLICKSTREAM_TIMEOUT_MS)`)),
      this.limits.idleMs,
    );
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.push(chunk);
    if (this.readableLength >= this.readableHighWaterMark) {
      clearTimeout(this.idle);
      this.heldSince ??= Date.now();
    } else {
      this.armIdle();
    }
    cb();
  }

  override _read(size: number): void {
    if (this.heldSince !== undefined) {
      this.heldMs += Date.now() - this.heldSince;
      this.heldSince = undefined;
    }
    this.armIdle();
    super._read(size);
  }

  private stopClocks(): void {
    this.ended = true;
    clearTimeout(this.idle);
    clearTimeout(this.deadline);
    clearInterval(this.rate);
  }

  override _flush(cb: TransformCallback): void {
    this.stopClocks();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.stopClocks();
    cb(err);
  }
}
