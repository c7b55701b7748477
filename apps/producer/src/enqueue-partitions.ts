import { ingestJobId, type IngestPayload, type SourceName, type Trigger } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';
import type { FailedPartition, IngestQueue } from '@recomart/queue';
import { randomBytes } from 'node:crypto';
import { EnqueueInterruptedError } from './enqueue-interrupted.js';

/** One partition to ingest. */
export interface PartitionRequest {
  source: SourceName;
  date: string;
}

export interface EnqueueOptions {
  trigger: Trigger;
  requestedBy?: string;
  /** Ingest again even when the lake already has a version (a distinct job id). */
  reprocess?: boolean;
  /** Say what would happen; add nothing. */
  dryRun?: boolean;
  /** Jobs per `addBulk` call. @defaultValue 500 */
  chunkSize?: number;
}

export interface EnqueueSummary {
  requested: number;
  /** Job ids added now (or that would be, on a dry run). */
  added: string[];
  /** Partitions whose job is already waiting, active or delayed. */
  alreadyQueued: string[];
  /**
   * Partitions missing from the lake whose earlier job had completed (the lake
   * lost it, or it was swept): that job is replaced by a fresh one. Also in `added`.
   */
  requeued: string[];
  /**
   * Partitions whose job failed for good: left as they are, with their reason,
   * for an operator to retry (board) or enqueue with `--reprocess`. Never re-run by
   * a schedule, catch-up or a plain enqueue.
   */
  failedForGood: FailedPartition[];
  /** Partitions the lake already has (skipped unless reprocess). */
  inLake: PartitionRequest[];
}

/**
 * Enqueues partitions, at most once each: skips what the lake already holds
 * (unless `reprocess`), relies on job ids `<source>__<date>` for the rest, and
 * adds in `addBulk` chunks.
 */
export async function enqueuePartitions(
  queues: ReadonlyMap<SourceName, IngestQueue>,
  lake: Lake,
  partitions: readonly PartitionRequest[],
  options: EnqueueOptions,
): Promise<EnqueueSummary> {
  const summary: EnqueueSummary = { requested: partitions.length, added: [], alreadyQueued: [], requeued: [], failedForGood: [], inLake: [] };
  const chunkSize = options.chunkSize ?? 500;
  const bySource = new Map<SourceName, string[]>();
  for (const p of partitions) {
    const dates = bySource.get(p.source);
    if (dates) dates.push(p.date);
    else bySource.set(p.source, [p.date]);
  }

  for (const [source, dates] of bySource) {
    const queue = queues.get(source);
    if (!queue) throw new Error(`no queue for source ${source}`);
    let todo = [...new Set(dates)].sort();
    if (!options.reprocess && todo.length > 0) {
      const committed = new Set(await lake.listPartitions(source, { from: todo[0], to: todo[todo.length - 1] }));
      for (const d of todo) if (committed.has(d)) summary.inLake.push({ source, date: d });
      todo = todo.filter((d) => !committed.has(d));
    }
    const nonce = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    for (let i = 0; i < todo.length; i += chunkSize) {
      const chunk = todo.slice(i, i + chunkSize);
      const ids = chunk.map((date) => ingestJobId(source, date, options.reprocess ? { nonce } : undefined));
      try {
        await enqueueChunk(queue, source, chunk, ids, options, summary);
      } catch (err) {
        // Redis refused a write (out of memory, gone): say exactly what is in it. A failed batch may be partly in.
        const landed = await Promise.all(ids.map((id) => queue.getJobState(id).catch(() => 'unknown'))).catch(() => []);
        const before = new Set([...summary.added, ...summary.alreadyQueued, ...summary.failedForGood.map((f) => f.jobId)]);
        const partly = ids.filter((id, k) => landed[k] !== undefined && landed[k] !== 'unknown' && !before.has(id));
        throw new EnqueueInterruptedError([...summary.added, ...partly], summary.requested, err);
      }
    }
  }
  return summary;
}

/** Enqueues one chunk of a source's dates, recording what happened in `summary`. */
async function enqueueChunk(
  queue: IngestQueue,
  source: SourceName,
  chunk: readonly string[],
  ids: readonly string[],
  options: EnqueueOptions,
  summary: EnqueueSummary,
): Promise<void> {
  const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
  const fresh: Array<{ id: string; date: string }> = [];
  for (const [k, id] of ids.entries()) {
    const state = states[k];
    const date = chunk[k] as string;
    if (state === 'unknown') fresh.push({ id, date });
    else if (state === 'failed') {
      // Failed for good: an operator's decision. Keep the job and its reason.
      const job = await queue.getJob(id);
      summary.failedForGood.push({ source, date, jobId: id, reason: job?.failedReason ?? 'unknown', failedAt: job?.finishedOn ? new Date(job.finishedOn).toISOString() : undefined });
    } else if (state === 'completed') {
      // Completed, yet the partition is not in the lake: run it again.
      if (!options.dryRun) await queue.remove(id);
      summary.requeued.push(id);
      fresh.push({ id, date });
    } else summary.alreadyQueued.push(id);
  }
  if (!options.dryRun && fresh.length > 0) {
    await queue.addBulk(
      fresh.map(({ id, date }) => {
        const data: IngestPayload = { source, date, trigger: options.trigger };
        if (options.requestedBy) data.requestedBy = options.requestedBy;
        return { name: 'ingest', data, opts: { jobId: id } };
      }),
    );
  }
  summary.added.push(...fresh.map((f) => f.id));
}
