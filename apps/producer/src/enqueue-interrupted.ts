import { echoInput } from '@recomart/logging';

/** Partitions enqueued so far, as job ids `<source>__<date>[__r<nonce>]`. */
function enqueuedRanges(ids: readonly string[]): string {
  const bySource = new Map<string, string[]>();
  for (const id of ids) {
    const [source, date] = id.split('__') as [string, string];
    const dates = bySource.get(source);
    if (dates) dates.push(date);
    else bySource.set(source, [date]);
  }
  return [...bySource]
    .map(([source, dates]) => {
      const sorted = [...dates].sort();
      const first = sorted[0] as string;
      const last = sorted[sorted.length - 1] as string;
      return `${source} ${first === last ? first : `${first}..${last}`} (${sorted.length})`;
    })
    .join(', ');
}

/**
 * Thrown when Redis refuses a write part-way through `enqueue`, `backfill` or
 * a catch-up (out of memory, gone away): says how many partitions were
 * enqueued and which, why it stopped, and how to resume. Retryable by the
 * operator: running the same command again is safe, since partitions already
 * queued or in the lake are skipped.
 */
export class EnqueueInterruptedError extends Error {
  override readonly name = 'EnqueueInterruptedError';

  constructor(
    /** Job ids that are in Redis. */
    readonly enqueued: readonly string[],
    /** Partitions asked for. */
    readonly requested: number,
    cause: unknown,
  ) {
    const said = cause instanceof Error ? cause.message : String(cause);
    const oom = /^OOM\b/.test(said);
    const why = oom ? `Redis is out of memory (maxmemory): ${echoInput(said)}` : `Redis refused a write: ${echoInput(said)}`;
    const done = enqueued.length === 0 ? 'nothing was enqueued' : `${enqueued.length} enqueued: ${enqueuedRanges(enqueued)}`;
    const fix = oom ? 'free memory or raise maxmemory, then ' : '';
    super(
      `stopped after enqueuing ${enqueued.length} of ${requested} partition(s): ${why}; ${done}. To resume, ${fix}run the same command again: it is safe (partitions already queued or in the lake are skipped)`,
      { cause },
    );
  }
}
