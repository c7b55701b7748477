import { isLogicalDate, SOURCES, type SourceName } from '@recomart/jobs';
import type { IngestQueue } from './queues.js';

/** A partition whose ingest job failed for good, with BullMQ's `failedReason`. */
export interface FailedPartition {
  source: SourceName;
  date: string;
  jobId: string;
  reason: string;
  failedAt: string | undefined;
}

/** What this needs of the lake: which dates of a source have a committed version. */
export interface PartitionLister {
  listPartitions(source: string): Promise<string[]>;
}

/** How many failed jobs per queue are read. */
const FAILED_LIMIT = 200;

/**
 * Partitions whose job failed for good (BullMQ's failed set: attempts used up or
 * not retryable) and that the lake still does not have: each waits for an
 * operator to retry it or enqueue it with `--reprocess`. Sorted by job id; at
 * most the newest 200 failed jobs of each queue are looked at.
 */
export async function listFailedForGood(queues: ReadonlyMap<SourceName, IngestQueue>, lake: PartitionLister): Promise<FailedPartition[]> {
  const out: FailedPartition[] = [];
  for (const source of SOURCES) {
    const queue = queues.get(source);
    if (!queue) continue;
    const jobs = await queue.getFailed(0, FAILED_LIMIT - 1);
    if (jobs.length === 0) continue;
    const inLake = new Set(await lake.listPartitions(source));
    for (const job of jobs) {
      const date = job.data.date;
      if (!isLogicalDate(date) || inLake.has(date) || !job.id) continue;
      out.push({ source, date, jobId: job.id, reason: job.failedReason, failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : undefined });
    }
  }
  return out.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
}
