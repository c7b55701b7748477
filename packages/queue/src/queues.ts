import type { Config } from '@recomart/config';
import { queueName, SOURCES, type IngestPayload, type SourceName } from '@recomart/jobs';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { ingestJobOptions } from './job-options.js';

export type IngestQueue = Queue<IngestPayload, IngestJobResult>;

/** What a completed ingest job returns (stored by BullMQ as the job's return value). */
export interface IngestJobResult {
  status: 'committed' | 'unchanged';
  source: SourceName;
  date: string;
  version: number;
  records: number;
  rejected: number;
  files: number;
  bytes: number;
  durationMs: number;
}

/**
 * The queue of one source, under QUEUE_PREFIX, with the default ingest job
 * options and an events stream long enough that the audit sink reads every event.
 */
export function createIngestQueue(source: SourceName, connection: Redis, config: Config, onError?: (err: Error) => void): IngestQueue {
  const queue = new Queue<IngestPayload, IngestJobResult>(queueName(source), {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: ingestJobOptions(config),
    streams: { events: { maxLen: config.audit.streamMaxLen } },
  });
  // Connection errors surface on the connection's owner (which logs them and
  // reconnects); without a listener an 'error' event would crash the process.
  queue.on('error', onError ?? (() => undefined));
  return queue;
}

/** One queue per source. */
export function createIngestQueues(
  connection: Redis,
  config: Config,
  sources: readonly SourceName[] = SOURCES,
  onError?: (err: Error) => void,
): Map<SourceName, IngestQueue> {
  return new Map(sources.map((s) => [s, createIngestQueue(s, connection, config, onError)]));
}

/** Lifecycle events of one source's queue (a blocking connection of its own). */
export function createIngestQueueEvents(source: SourceName, connection: Redis, config: Config, lastEventId?: string): QueueEvents {
  return new QueueEvents(queueName(source), {
    connection,
    prefix: config.queuePrefix,
    ...(lastEventId ? { lastEventId } : {}),
  });
}

/** Closes every queue, ignoring ones already closed. */
export async function closeAll(closables: Iterable<{ close(): Promise<void> }>): Promise<void> {
  await Promise.allSettled([...closables].map((c) => c.close()));
}
