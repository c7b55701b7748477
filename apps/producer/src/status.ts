import { queueName, SOURCES } from '@recomart/jobs';
import { lakeFreshness, type SourceFreshness } from '@recomart/lake';
import type { ProducerContext } from './producer-context.js';
import { readScheduleStatus, type ScheduleStatus } from './schedule-status.js';

export interface StatusReport {
  queues: Array<{ queue: string; source: string; paused: boolean; counts: Record<string, number> }>;
  schedule: ScheduleStatus;
  partitions: Array<{ source: string; partitions: number; newestDate: string | undefined; newestVersion: number | undefined }>;
  /** Per source: newest committed date, its commit's age, and the days missing in the last CATCH_UP_DAYS. */
  freshness: SourceFreshness[];
}

/** Queue counts, the schedule (settings, next fire times, failed-for-good partitions), the newest committed partition per source and its freshness. */
export async function readStatus(ctx: ProducerContext, now: Date = new Date()): Promise<StatusReport> {
  const queues = await Promise.all(
    SOURCES.map(async (source) => {
      const q = ctx.queues.get(source);
      if (!q) throw new Error(`no queue for ${source}`);
      const [counts, paused] = await Promise.all([q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized', 'waiting-children'), q.isPaused()]);
      return { queue: queueName(source), source, paused, counts };
    }),
  );
  const schedule = await readScheduleStatus(ctx);
  const partitions = await Promise.all(
    SOURCES.map(async (source) => {
      const dates = await ctx.lake.listPartitions(source);
      const newestDate = dates[dates.length - 1];
      const newestVersion = newestDate ? (await ctx.lake.readManifest(source, newestDate))?.version : undefined;
      return { source, partitions: dates.length, newestDate, newestVersion };
    }),
  );
  const freshness = await readFreshness(ctx, now);
  return { queues, schedule, partitions, freshness };
}

/** The freshness section: per source, the newest committed date, its commit's age and the days missing in the last CATCH_UP_DAYS. */
export function readFreshness(ctx: ProducerContext, now: Date): Promise<SourceFreshness[]> {
  return lakeFreshness(ctx.lake, SOURCES, { now, timeZone: ctx.config.schedule.partitionTz, days: ctx.config.schedule.catchUpDays });
}
