import { addDays, type SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import type { IngestQueue } from '@recomart/queue';
import { enqueuePartitions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';

/**
 * BullMQ does not run missed ticks, so each tick (and `schedule --catch-up`)
 * looks at the `days` logical dates before `latestDate` (inclusive) and
 * enqueues those with no committed version, with trigger `catch-up`.
 */
export async function catchUp(
  queues: ReadonlyMap<SourceName, IngestQueue>,
  lake: Lake,
  sources: readonly SourceName[],
  latestDates: Readonly<Partial<Record<SourceName, string>>>,
  days: number,
): Promise<EnqueueSummary> {
  const partitions: PartitionRequest[] = [];
  for (const source of sources) {
    const latest = latestDates[source];
    if (!latest || days <= 0) continue;
    for (let i = days - 1; i >= 0; i--) partitions.push({ source, date: addDays(latest, -i) });
  }
  return enqueuePartitions(queues, lake, partitions, { trigger: 'catch-up', requestedBy: 'scheduler' });
}
