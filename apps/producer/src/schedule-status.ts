import type { CommandIo } from '@recomart/command';
import { SOURCES } from '@recomart/jobs';
import type { ProducerContext } from './producer-context.js';
import { listFailedForGood, readScheduleSettings, type FailedPartition, type ScheduleSettings } from '@recomart/queue';
import { readSchedulerHealth, type SchedulerHealth } from './scheduler-watch.js';

/** The scheduling part of `recomart status`. */
export interface ScheduleStatus {
  /** The settings stored with the schedulers (undefined before the first `recomart schedule`). */
  settings: ScheduleSettings | undefined;
  schedulers: SchedulerHealth[];
  /** Partitions whose job failed for good and that are not in the lake: waiting for an operator. */
  failedForGood: FailedPartition[];
}

/** Stored settings, each scheduler's next fire time (flagged when in the past), and failed-for-good partitions. */
export async function readScheduleStatus(ctx: Pick<ProducerContext, 'connection' | 'config' | 'tickQueue' | 'queues' | 'lake'>, nowMs = Date.now()): Promise<ScheduleStatus> {
  const [settings, schedulers, failedForGood] = await Promise.all([
    readScheduleSettings(ctx.connection, ctx.config.queuePrefix),
    readSchedulerHealth(ctx.tickQueue, nowMs),
    listFailedForGood(ctx.queues, ctx.lake),
  ]);
  return { settings, schedulers, failedForGood };
}

/** The human-readable lines of a ScheduleStatus. */
export function printScheduleStatus(io: CommandIo, s: ScheduleStatus): void {
  if (s.settings) {
    const crons = SOURCES.map((src) => `${src} "${s.settings?.cron[src] ?? '-'}"`).join(', ');
    io.stdout.write(`schedule settings: ${crons} in ${s.settings.tz} · partition days in ${s.settings.partitionTz} · catch-up ${s.settings.catchUpDays} day(s)\n`);
  }
  for (const h of s.schedulers) {
    const flag = h.stuck ? ' · IN THE PAST, no tick pending (the scheduler process repairs it)' : h.overdue ? ' · IN THE PAST (tick waiting for the scheduler process)' : '';
    io.stdout.write(`scheduler ${h.id}: "${h.pattern ?? '-'}" ${h.tz ?? 'UTC'} · next ${h.next ?? '-'}${flag}\n`);
  }
  if (s.schedulers.length === 0) io.stdout.write('no schedulers (run "recomart schedule")\n');
  for (const f of s.failedForGood) io.stdout.write(`failed for good ${f.jobId}: ${f.reason} (retry it on the board, or enqueue --reprocess)\n`);
}
