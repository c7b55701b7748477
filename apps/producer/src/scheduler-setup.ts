import { randomBytes } from 'node:crypto';
import { UsageError } from '@recomart/command';
import type { Config } from '@recomart/config';
import { SCHEDULE_QUEUE, schedulerId, SOURCES, type SourceName } from '@recomart/jobs';
import type { Logger } from '@recomart/logging';
import { dailyScheduleProblem } from '@recomart/queue';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readScheduleSettings, settingsDifferences, settingsFromConfig, writeScheduleSettings, type ScheduleSettings } from '@recomart/queue';

/** The data of a scheduler tick: which source's day to ingest. */
export interface TickData {
  source: SourceName;
}

export interface SchedulerState {
  id: string;
  source: SourceName;
  pattern: string;
  tz: string;
  /** Next run, epoch ms. */
  next: number | undefined;
  changed: boolean;
}

/** How long one `schedule` run may hold the setup lock. */
const LOCK_TTL_MS = 15_000;

/**
 * Runs `fn` while holding a Redis lock (SET NX PX), so concurrent `schedule`
 * runs upsert one after the other instead of racing (BullMQ issues #2876, #3085).
 */
async function withLock<T>(conn: Redis, key: string, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString('hex');
  for (let waited = 0; ; ) {
    const ok = await conn.set(key, token, 'PX', LOCK_TTL_MS, 'NX');
    if (ok === 'OK') break;
    if (waited > LOCK_TTL_MS * 2) throw new Error(`could not take the scheduler setup lock ${key}`);
    await new Promise((r) => setTimeout(r, 50));
    waited += 50;
  }
  try {
    return await fn();
  } finally {
    // Release only our own lock.
    await conn.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", 1, key, token);
  }
}

/** Thrown when the environment's schedule settings differ from the ones stored in Redis and `--replace` was not given. Bad usage (exit 2). */
export class ScheduleSettingsConflictError extends UsageError {
}

/** Thrown when a cron pattern cannot drive a daily schedule in its zone (it would skip days or never fire). Bad usage (exit 2). */
export class ScheduleRefusedError extends UsageError {
}

/**
 * Refuses (ScheduleRefusedError, one line naming the variable, the cron and the
 * zone) a cron that does not fire at least every 48 hours over the next two
 * years in SCHEDULE_TZ. Needs no Redis: commands call it before connecting.
 */
export function checkSchedules(config: Config, now = Date.now()): void {
  for (const source of SOURCES) {
    const problem = dailyScheduleProblem(config.schedule.cron[source], config.schedule.tz, now);
    if (problem) throw new ScheduleRefusedError(`SCHEDULE_CRON_${source.toUpperCase()}: ${problem}`);
  }
}

export interface UpsertOptions {
  /** Replace stored settings that differ from this environment's (else refuse). */
  replace?: boolean;
  /** The clock (tests). @defaultValue Date.now */
  now?: () => number;
  logger?: Logger;
}

export interface UpsertOutcome {
  schedulers: SchedulerState[];
  settings: ScheduleSettings;
  /** The differences `--replace` overrode; empty when the stored settings agreed or none were stored. */
  replaced: string[];
  /** Tick job ids added for overdue ticks of schedulers whose cron changed (see `upsertSchedulers`). */
  overdueKept: string[];
}

/**
 * Creates or updates one job scheduler per source on the tick queue, cron from
 * SCHEDULE_CRON_<SOURCE> in SCHEDULE_TZ, and stores the schedule settings next
 * to them. Idempotent: an unchanged scheduler is left alone; concurrent
 * callers are serialised by a lock.
 *
 * - Settings that differ from the stored ones are refused (ScheduleSettingsConflictError)
 *   unless `replace`; a replacement is logged with every difference.
 * - A scheduler whose cron or zone changes while its tick is overdue (the process that
 *   would have taken it was down) keeps that tick: it is added as a plain tick job
 *   (`overdue:<scheduler>:<millis>`, same scheduled time, so the same date) before
 *   BullMQ's upsert drops the old one.
 */
export async function upsertSchedulers(
  tickQueue: Queue<TickData>,
  conn: Redis,
  config: Config,
  options: UpsertOptions = {},
): Promise<UpsertOutcome> {
  const now = options.now ?? Date.now;
  checkSchedules(config, now());
  return withLock(conn, `${config.queuePrefix}:${SCHEDULE_QUEUE}:setup-lock`, async () => {
    const local = settingsFromConfig(config);
    const stored = await readScheduleSettings(conn, config.queuePrefix);
    const differences = stored ? settingsDifferences(stored, local) : [];
    if (differences.length > 0 && !options.replace) {
      throw new ScheduleSettingsConflictError(
        `schedule settings differ from the ones stored in Redis (${differences.join('; ')}): run with the stored settings, or "recomart schedule --replace" to replace them for every replica`,
      );
    }
    if (differences.length > 0) {
      options.logger?.warn({ event: 'schedule-settings-replaced', differences, previous: stored, settings: local }, `schedule settings replaced: ${differences.join('; ')}`);
    }
    const out: SchedulerState[] = [];
    const overdueKept: string[] = [];
    for (const source of SOURCES) {
      const id = schedulerId(source);
      const pattern = local.cron[source];
      const tz = local.tz;
      const existing = await tickQueue.getJobScheduler(id);
      const same = existing && existing.pattern === pattern && (existing.tz ?? 'UTC') === tz;
      if (!same) {
        const overdueAt = existing?.next;
        if (typeof overdueAt === 'number' && overdueAt > 0 && overdueAt <= now()) {
          const jobId = `overdue:${id}:${overdueAt}`;
          await tickQueue.add('tick', { source }, { jobId, attempts: 3, backoff: { type: 'exponential', delay: 5000 } });
          overdueKept.push(jobId);
          options.logger?.info({ event: 'overdue-tick-kept', scheduler: id, scheduledAt: new Date(overdueAt).toISOString() }, `kept the overdue tick of ${id}`);
        }
        await tickQueue.upsertJobScheduler(id, { pattern, tz }, { name: 'tick', data: { source }, opts: { attempts: 3, backoff: { type: 'exponential', delay: 5000 } } });
      }
      const state = await tickQueue.getJobScheduler(id);
      out.push({ id, source, pattern, tz, next: state?.next, changed: !same });
    }
    if (!stored || differences.length > 0) await writeScheduleSettings(conn, config.queuePrefix, local);
    return { schedulers: out, settings: local, replaced: differences, overdueKept };
  });
}
