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

/** `progress.rateLimited` of a job handed back for a rate limit (see the worker's `RateLimitedProgress`). */
function rateLimitedOf(progress: unknown): { resumeAt: number; resumeAtPage: number | null } | undefined {
  if (progress === null || typeof progress !== 'object') return undefined;
  const limited = (progress as { rateLimited?: unknown }).rateLimited;
  if (limited === null || typeof limited !== 'object') return undefined;
  const { resumeAt, resumeAtPage } = limited as { resumeAt?: unknown; resumeAtPage?: unknown };
  if (typeof resumeAt !== 'number') return undefined;
  return { resumeAt, resumeAtPage: typeof resumeAtPage === 'number' ? resumeAtPage : null };
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
    /** Called once per rate-limit hand-back: the page the job resumes at (when known) and when. */
    onRateLimited?: (r: { id: string; resumeAtPage: number | null; inMs: number }) => void;
    pollMs?: number;
  },
): Promise<WaitOutcome> {
  const pending = new Set(ids);
  const completed: string[] = [];
  const failed: Array<{ id: string; reason: string }> = [];
  const pollMs = options.pollMs ?? 500;
  const attemptsSeen = new Map<string, number>();
  const resumesSeen = new Map<string, number>();
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
          if ((state === 'waiting' || state === 'prioritized') && options.onRateLimited) {
            // Handed back to the queue's rate limiter: the processor put when it resumes in the progress.
            const job = await q.getJob(id);
            const limited = rateLimitedOf(job?.progress);
            if (limited && limited.resumeAt > (resumesSeen.get(id) ?? 0)) {
              resumesSeen.set(id, limited.resumeAt);
              options.onRateLimited({ id, resumeAtPage: limited.resumeAtPage, inMs: Math.max(0, limited.resumeAt - Date.now()) });
            }
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
