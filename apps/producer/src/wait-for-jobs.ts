import type { SourceName } from '@recomart/jobs';
import type { IngestQueue } from '@recomart/queue';

export interface WaitOutcome {
  completed: string[];
  failed: Array<{ id: string; reason: string }>;
  remaining: string[];
}

export interface WaitProgress {
  total: number;
  completed: number;
  failed: number;
  remaining: number;
}

/** The source a job id `<source>__<date>[__r…]` belongs to. */
function sourceOfJobId(id: string): SourceName {
  return id.split('__')[0] as SourceName;
}

/**
 * Polls job states until every job has completed or failed for good (or
 * `signal` fires), reporting progress after each poll. Polling (not events)
 * survives Redis restarts and jobs removed by `removeOnComplete`.
 */
export async function waitForJobs(
  queues: ReadonlyMap<SourceName, IngestQueue>,
  ids: readonly string[],
  options: {
    signal: AbortSignal;
    onProgress?: (p: WaitProgress) => void;
    /** Called once per failed attempt that will be retried, with the reason. */
    onRetry?: (r: { id: string; attemptsMade: number; reason: string }) => void;
    pollMs?: number;
  },
): Promise<WaitOutcome> {
  const pending = new Set(ids);
  const completed: string[] = [];
  const failed: Array<{ id: string; reason: string }> = [];
  const pollMs = options.pollMs ?? 500;
  const attemptsSeen = new Map<string, number>();
  for (;;) {
    const batch = [...pending];
    for (let i = 0; i < batch.length; i += 200) {
      const slice = batch.slice(i, i + 200);
      const states = await Promise.all(
        slice.map(async (id) => {
          const q = queues.get(sourceOfJobId(id)) as IngestQueue;
          const state = await q.getJobState(id).catch(() => 'error' as const);
          if (state === 'failed') {
            const job = await q.getJob(id);
            return { id, state, reason: job?.failedReason ?? 'failed' };
          }
          if (state === 'delayed' && options.onRetry) {
            // Delayed after an attempt: a retry is scheduled; say why once per attempt.
            const job = await q.getJob(id);
            const made = job?.attemptsMade ?? 0;
            if (job && made > (attemptsSeen.get(id) ?? 0)) {
              attemptsSeen.set(id, made);
              options.onRetry({ id, attemptsMade: made, reason: job.failedReason || 'retrying' });
            }
          }
          return { id, state, reason: '' };
        }),
      );
      for (const s of states) {
        // 'unknown': removed after completion by removeOnComplete.
        if (s.state === 'completed' || s.state === 'unknown') {
          completed.push(s.id);
          pending.delete(s.id);
        } else if (s.state === 'failed') {
          failed.push({ id: s.id, reason: s.reason });
          pending.delete(s.id);
        }
      }
    }
    options.onProgress?.({ total: ids.length, completed: completed.length, failed: failed.length, remaining: pending.size });
    if (pending.size === 0 || options.signal.aborted) break;
    await new Promise<void>((resolve) => {
      const onAbort = () => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        options.signal.removeEventListener('abort', onAbort);
        resolve();
      }, pollMs);
      options.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  return { completed, failed, remaining: [...pending] };
}
