import type { Logger } from '@recomart/logging';
import type { AuditEmitter, FailedPartition } from '@recomart/queue';

/**
 * Reports partitions whose job failed for good and that a schedule or catch-up
 * therefore left alone: one `failed-for-good` audit event and one warning each,
 * at every tick, until an operator retries the job or enqueues it with `--reprocess`.
 */
export async function reportFailedForGood(failed: readonly FailedPartition[], audit: AuditEmitter | undefined, logger: Logger): Promise<void> {
  for (const f of failed) {
    logger.warn({ event: 'failed-for-good', jobId: f.jobId, source: f.source, date: f.date, reason: f.reason }, `${f.jobId} failed for good and is left for an operator (retry it, or enqueue --reprocess)`);
    await audit?.emit({ type: 'failed-for-good', jobId: f.jobId, source: f.source, date: f.date, reason: f.reason, failedAt: f.failedAt, requestedBy: 'scheduler' });
  }
}
