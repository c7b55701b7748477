import { queueName, SOURCES } from '@recomart/jobs';
import type { ProducerContext } from './producer-context.js';

export interface StatusReport {
  queues: Array<{ queue: string; source: string; paused: boolean; counts: Record<string, number> }>;
  schedulers: Array<{ id: string; pattern: string | undefined; tz: string | undefined; next: string | undefined }>;
  partitions: Array<{ source: string; partitions: number; newestDate: string | undefined; newestVersion: number | undefined }>;
}

/** Queue counts, schedulers and the newest committed partition per source. */
export async function readStatus(ctx: ProducerContext): Promise<StatusReport> {
  const queues = await Promise.all(
    SOURCES.map(async (source) => {
      const q = ctx.queues.get(source);
      if (!q) throw new Error(`no queue for ${source}`);
      const [counts, paused] = await Promise.all([q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'), q.isPaused()]);
      return { queue: queueName(source), source, paused, counts };
    }),
  );
  const schedulers = (await ctx.tickQueue.getJobSchedulers()).map((s) => ({
    id: s.key,
    pattern: s.pattern,
    tz: s.tz,
    next: s.next ? new Date(s.next).toISOString() : undefined,
  }));
  const partitions = await Promise.all(
    SOURCES.map(async (source) => {
      const dates = await ctx.lake.listPartitions(source);
      const newestDate = dates[dates.length - 1];
      const newestVersion = newestDate ? (await ctx.lake.readManifest(source, newestDate))?.version : undefined;
      return { source, partitions: dates.length, newestDate, newestVersion };
    }),
  );
  return { queues, schedulers, partitions };
}
