import type { Logger } from '@recomart/logging';
import type { Queue } from 'bullmq';
import type { TickData } from './scheduler-setup.js';

/** A scheduler is overdue when its next tick is this far in the past. */
export const OVERDUE_GRACE_MS = 60_000;

/** Tick job states in which an overdue next time is only late (a tick waiting for the scheduler process), not lost. */
const PENDING = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export interface SchedulerHealth {
  id: string;
  pattern: string | undefined;
  tz: string | undefined;
  /** Next fire time (ISO), when BullMQ has one. */
  next: string | undefined;
  /** The next fire time is more than OVERDUE_GRACE_MS in the past. */
  overdue: boolean;
  /** Overdue with no tick job pending: BullMQ will never fire it again by itself. */
  stuck: boolean;
}

/** Every job scheduler of the tick queue with its next fire time, flagging one in the past. */
export async function readSchedulerHealth(tickQueue: Queue<TickData>, nowMs: number): Promise<SchedulerHealth[]> {
  const schedulers = await tickQueue.getJobSchedulers();
  return Promise.all(
    schedulers.map(async (s) => {
      const next = typeof s.next === 'number' && Number.isFinite(s.next) ? s.next : undefined;
      const overdue = next === undefined || next < nowMs - OVERDUE_GRACE_MS;
      const state = overdue && next !== undefined ? await tickQueue.getJobState(`repeat:${s.key}:${next}`) : undefined;
      return {
        id: s.key,
        pattern: s.pattern ?? undefined,
        tz: s.tz ?? undefined,
        next: next === undefined ? undefined : new Date(next).toISOString(),
        overdue,
        stuck: overdue && !(state !== undefined && PENDING.has(state)),
      };
    }),
  );
}

/**
 * Repairs every stuck scheduler (next time in the past, no tick pending, as
 * BullMQ leaves one whose cron could not be computed): upserts it again with
 * its own pattern and zone, so the next time is computed afresh from now.
 * The ticks it missed are the catch-up's to fill.
 * @returns the ids of the schedulers repaired.
 */
export async function repairSchedulers(tickQueue: Queue<TickData>, nowMs: number, logger: Logger): Promise<string[]> {
  const repaired: string[] = [];
  for (const h of await readSchedulerHealth(tickQueue, nowMs)) {
    if (!h.stuck || !h.pattern) continue;
    const template = (await tickQueue.getJobScheduler(h.id))?.template;
    if (!template?.data) {
      logger.error({ event: 'scheduler-stuck', scheduler: h.id, next: h.next }, `scheduler ${h.id} is stuck and has no job template: run "recomart schedule --replace"`);
      continue;
    }
    await tickQueue.upsertJobScheduler(h.id, { pattern: h.pattern, ...(h.tz ? { tz: h.tz } : {}) }, { name: 'tick', data: template.data, ...(template.opts ? { opts: template.opts } : {}) });
    const after = await tickQueue.getJobScheduler(h.id);
    logger.warn({ event: 'scheduler-repaired', scheduler: h.id, was: h.next, next: after?.next ? new Date(after.next).toISOString() : undefined }, `scheduler ${h.id} was stuck at ${h.next ?? 'no next time'}: repaired`);
    repaired.push(h.id);
  }
  return repaired;
}
