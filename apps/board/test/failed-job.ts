import { once } from 'node:events';
import { queueName, type SourceName } from '@recomart/jobs';
import { Queue, UnrecoverableError, Worker } from 'bullmq';

/** Puts one job in the failed state of a source's queue under `prefix`, with `reason` as its failure. */
export async function seedFailedJob(
  redisUrl: string,
  prefix: string,
  source: SourceName,
  jobId: string,
  date: string,
  reason: string,
  requestedBy?: string,
): Promise<void> {
  const queue = new Queue(queueName(source), { connection: { url: redisUrl }, prefix });
  const worker = new Worker(
    queueName(source),
    async () => {
      throw new UnrecoverableError(reason);
    },
    { connection: { url: redisUrl }, prefix },
  );
  try {
    const failed = once(worker, 'failed');
    await queue.add('ingest', { source, date, trigger: 'manual', ...(requestedBy ? { requestedBy } : {}) }, { jobId, attempts: 1 });
    await failed;
  } finally {
    await worker.close();
    await queue.close();
  }
}
