import { queueName, SOURCES } from '@recomart/jobs';
import type { ProducerContext } from './producer-context.js';
import { readScheduleStatus, type ScheduleStatus } from './schedule-status.js';

export interface StatusReport {
  queues: Array<{ queue: string; source: string; paused: boolean; counts: Record<string, number> }>;
  schedule: ScheduleStatus;
  partitions: Array<{ source: string; partitions: number; newestDate: string | undefined; newestVersion: number | undefined }>;
}

/** Queue counts, the schedule (settings, next fire times, failed-for-good partitions) and the newest committed partition per source. */
export async function readStatus(ctx: ProducerContext): Promise<StatusReport> {
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
  return { queues, schedule, partitions };
}
