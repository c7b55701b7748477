import { addDays, logicalDateForTick, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import type { IngestQueue } from '@recomart/queue';
import { enqueuePartitions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';

/**
 * BullMQ does not run missed ticks, so each tick, the scheduler process at
 * start-up and on its watch, and `schedule --catch-up` look back from TODAY (the
 * newest date each source can have at `nowMs`, in the partition zone) over
 * `days` dates and enqueue those with no committed version, with trigger
 * `catch-up`. Looking back from today, not from a tick's own date, means a
 * stale tick (three days late) still catches up to the present.
 */
export async function catchUp(
  queues: ReadonlyMap<SourceName, IngestQueue>,
  lake: Lake,
  sources: readonly SourceName[],
  nowMs: number,
  partitionTz: string,
  days: number,
): Promise<EnqueueSummary> {
  const partitions: PartitionRequest[] = [];
  for (const source of sources) {
    const latest = logicalDateForTick(source, nowMs, partitionTz);
    for (let i = days - 1; i >= 0; i--) partitions.push({ source, date: addDays(latest, -i) });
  }
  return enqueuePartitions(queues, lake, partitions, { trigger: 'catch-up', requestedBy: 'scheduler' });
}
