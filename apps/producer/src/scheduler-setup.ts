import { randomBytes } from 'node:crypto';
import type { Config } from '@recomart/config';
import { SCHEDULE_QUEUE, schedulerId, SOURCES, type SourceName } from '@recomart/jobs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

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

/**
 * Creates or updates one job scheduler per source on the tick queue, cron from
 * SCHEDULE_CRON_<SOURCE> in SCHEDULE_TZ. Idempotent: an unchanged scheduler is
 * left alone; concurrent callers are serialised by a lock.
 */
export async function upsertSchedulers(
  tickQueue: Queue<TickData>,
  conn: Redis,
  config: Config,
  sources: readonly SourceName[] = SOURCES,
): Promise<SchedulerState[]> {
  return withLock(conn, `${config.queuePrefix}:${SCHEDULE_QUEUE}:setup-lock`, async () => {
    const out: SchedulerState[] = [];
    for (const source of sources) {
      const id = schedulerId(source);
      const pattern = config.schedule.cron[source];
      const tz = config.schedule.tz;
      const existing = await tickQueue.getJobScheduler(id);
      const same = existing && existing.pattern === pattern && (existing.tz ?? 'UTC') === tz;
      if (!same) {
        await tickQueue.upsertJobScheduler(id, { pattern, tz }, { name: 'tick', data: { source }, opts: { attempts: 3, backoff: { type: 'exponential', delay: 5000 } } });
      }
      const now = await tickQueue.getJobScheduler(id);
      out.push({ id, source, pattern, tz, next: now?.next, changed: !same });
    }
    return out;
  });
}
