import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Page bytes a snapshot stores between two full garbage collections. V8's
 * own heuristics let a long snapshot's garbage (parsed pages, response
 * bodies, promoted while they waited in flight or in the reorder buffer) pile
 * up in the old generation: a worker's peak RSS climbed with the catalogue
 * (151 MiB at 100k products, 235 at 1M) while the live heap stayed near
 * 20 MiB. One full collection per this many bytes (a 1M-product catalogue at
 * 100 a page is ~140 MiB: two of them, ~10 ms each) keeps it flat. Changing
 * V8's heap growth for the whole process instead (`--heap-growing-percent`)
 * was measured to cut small jobs' throughput by a third, so it is done here,
 * where the garbage is made.
 * @defaultValue 64 MiB
 */
export const RELIEF_EVERY_BYTES = 16 * 1024 * 1024;

let collect: (() => void) | null | undefined;

/**
 * A full garbage collection now, when the runtime lets one be asked for
 * (`--expose-gc`, set on first use); otherwise nothing.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      collect = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      collect = null;
    }
  }
  collect?.();
}

/** Counts stored bytes and collects garbage once RELIEF_EVERY_BYTES more were stored. */
export class MemoryRelief {
  private since = 0;
  constructor(private readonly everyBytes: number = RELIEF_EVERY_BYTES) {}

  /** `bytes` more were stored; answers whether a collection ran. */
  stored(bytes: number): boolean {
    this.since += bytes;
    if (this.since < this.everyBytes) return false;
    this.since = 0;
    collectGarbage();
    return true;
  }
}
