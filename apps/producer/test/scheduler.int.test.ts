import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { loadConfig } from '@recomart/config';
import { addDays, logicalDateForTick, partitionDateOf, queueName, SCHEDULE_QUEUE, scheduledTimeOf, type SourceName } from '@recomart/jobs';
import { openLake, type Lake } from '@recomart/lake';
import { AuditEmitter, createIngestQueues, tickRepeatStrategy, type IngestQueue } from '@recomart/queue';
import {
  createTickProcessor,
  enqueuePartitions,
  readScheduleSettings,
  readScheduleStatus,
  readSchedulerHealth,
  repairSchedulers,
  scheduleCommand,
  statusCommand,
  settingsFromConfig,
  upsertSchedulers,
  writeScheduleSettings,
  type TickData,
} from '@recomart/producer';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { restoreClock, shiftClock } from '../../../test/helpers/shifted-clock.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';
import { waitUntil } from '../../../test/helpers/wait-until.js';
import { AuditTail } from '../../../test/helpers/audit-tail.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString());

/** A private prefix and data dir with the queues, the tick queue (guarded next-fire strategy) and the lake. */
interface Rig {
  t: TestEnv;
  redis: Redis;
  queues: Map<SourceName, IngestQueue>;
  tickQueue: Queue<TickData>;
  lake: Lake;
  /** A tick processor reading the stored settings, with its clock. */
  processor(now: () => number): ReturnType<typeof createTickProcessor>;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  restoreClock();
  for (const close of open.splice(0)) await close();
});

function rig(name: string, overrides: Record<string, string> = {}): Rig {
  const t = makeTestEnv(name, { CATCH_UP_DAYS: '3', ...overrides });
  const redis = new Redis(t.config.redisUrl, { maxRetriesPerRequest: null });
  const queues = createIngestQueues(redis, t.config);
  const tickQueue = new Queue<TickData>(SCHEDULE_QUEUE, { connection: redis, prefix: t.prefix, settings: { repeatStrategy: tickRepeatStrategy } });
  const lake = openLake({ dataDir: t.dataDir });
  open.push(async () => {
    await Promise.all([...queues.values(), tickQueue].map((q) => q.close()));
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });
  const audit = new AuditEmitter(redis, t.prefix, 10_000);
  return {
    t,
    redis,
    queues,
    tickQueue,
    lake,
    processor: (now) =>
      createTickProcessor({ lake, queues, logger: t.logger, audit, now, settings: async () => (await readScheduleSettings(redis, t.prefix)) ?? Promise.reject(new Error('no settings')) }),
  };
}

function tick(source: SourceName, scheduledAt: number) {
  return { id: `repeat:daily-${source}:${scheduledAt}`, data: { source }, timestamp: scheduledAt, opts: { prevMillis: scheduledAt } };
}

async function jobIds(queue: IngestQueue | undefined): Promise<string[]> {
  const jobs = (await queue?.getJobs(['waiting', 'delayed', 'active', 'failed', 'completed'])) ?? [];
  return jobs.map((j) => j.id ?? '').sort();
}

describe('ticks', () => {
  it('a tick at 02:00 on 2026-11-25 ingests clickstream for 2026-11-24 (and makes sure 11-23 has a job); retried two days later, the same date', async () => {
    const r = rig('tick');
    await writeScheduleSettings(r.redis, r.t.prefix, settingsFromConfig(r.t.config));
    const scheduledAt = at('2026-11-25T02:00:00Z');
    const first = await r.processor(() => scheduledAt + 60_000)(tick('clickstream', scheduledAt));
    expect(first).toMatchObject({ source: 'clickstream', date: '2026-11-24', enqueued: true, scheduledAt: '2026-11-25T02:00:00.000Z' });
    expect(await jobIds(r.queues.get('clickstream'))).toEqual(['clickstream__2026-11-22', 'clickstream__2026-11-23', 'clickstream__2026-11-24']);
    const retried = await r.processor(() => scheduledAt + 2 * 86_400_000)({ ...tick('clickstream', scheduledAt), timestamp: scheduledAt + 2 * 86_400_000 });
    expect(retried).toMatchObject({ date: '2026-11-24', enqueued: false });
    const job = await r.queues.get('clickstream')?.getJob('clickstream__2026-11-24');
    expect(job?.data).toEqual({ source: 'clickstream', date: '2026-11-24', trigger: 'schedule', requestedBy: 'scheduler' });
  });

  it('computes the date from the settings stored in Redis, never from the environment of the process taking the tick', async () => {
    // This process's environment says UTC; the schedule was stored with Tokyo partition days.
    const r = rig('stored', { PARTITION_TZ: 'UTC' });
    await writeScheduleSettings(r.redis, r.t.prefix, { ...settingsFromConfig(r.t.config), partitionTz: 'Asia/Tokyo' });
    // 23:30Z on 11-25 is already 11-26 in Tokyo.
    const result = await r.processor(() => at('2026-11-25T23:31:00Z'))(tick('products', at('2026-11-25T23:30:00Z')));
    expect(result.date).toBe('2026-11-26');
  });

  it('a stale tick catches up from today, not from its own date: three days down, then the tick of the first missed day', async () => {
    const r = rig('stale', { CATCH_UP_DAYS: '3' });
    await writeScheduleSettings(r.redis, r.t.prefix, settingsFromConfig(r.t.config));
    // The 11-21 02:00 tick, taken on 11-24 at 03:00 when the scheduler process comes back.
    const result = await r.processor(() => at('2026-11-24T03:00:00Z'))(tick('clickstream', at('2026-11-21T02:00:00Z')));
    expect(result.date).toBe('2026-11-20');
    // Its own dates (11-19, 11-20) and, back from today (newest clickstream date 11-23), 11-21..11-23.
    expect(await jobIds(r.queues.get('clickstream'))).toEqual(['19', '20', '21', '22', '23'].map((d) => `clickstream__2026-11-${d}`));
  });
});

describe('failed for good', () => {
  it('is not re-run by two ticks: the job and its reason stay, each tick reports it (audit, status) until --reprocess', async () => {
    const r = rig('failed', { CATCH_UP_DAYS: '2' });
    await writeScheduleSettings(r.redis, r.t.prefix, settingsFromConfig(r.t.config));
    const products = r.queues.get('products') as IngestQueue;
    let runs = 0;
    const worker = new Worker(queueName('products'), async () => {
      runs++;
      throw new UnrecoverableError('PermanentSourceError: the product API answered 404');
    }, { connection: r.redis.duplicate(), prefix: r.t.prefix });
    const failed = new Promise<void>((resolve) => worker.once('failed', () => resolve()));
    await enqueuePartitions(r.queues, r.lake, [{ source: 'products', date: '2026-11-20' }], { trigger: 'schedule' });
    await failed;
    await worker.close();
    const audit = new AuditTail(r.t.config.redisUrl, r.t.prefix);
    open.push(async () => audit.close());

    // Ticks of 11-20 (retried) and 11-21 both have 11-20 in their window.
    const first = await r.processor(() => at('2026-11-20T03:01:00Z'))(tick('products', at('2026-11-20T03:00:00Z')));
    const second = await r.processor(() => at('2026-11-21T03:01:00Z'))(tick('products', at('2026-11-21T03:00:00Z')));
    expect(first.failedForGood).toEqual(['products__2026-11-20']);
    expect(second.failedForGood).toEqual(['products__2026-11-20']);
    expect(runs).toBe(1);
    const job = await products.getJob('products__2026-11-20');
    expect({ state: await job?.getState(), reason: job?.failedReason, attempts: job?.attemptsMade }).toEqual({ state: 'failed', reason: 'PermanentSourceError: the product API answered 404', attempts: 1 });
    const reports = await audit.waitForCount((e) => e.type === 'failed-for-good', 2);
    expect(reports.map((e) => [e.jobId, e.reason])).toEqual([
      ['products__2026-11-20', 'PermanentSourceError: the product API answered 404'],
      ['products__2026-11-20', 'PermanentSourceError: the product API answered 404'],
    ]);

    const status = await readScheduleStatus({ connection: r.redis, config: r.t.config, tickQueue: r.tickQueue, queues: r.queues, lake: r.lake });
    expect(status.failedForGood.map((f) => [f.jobId, f.reason])).toEqual([['products__2026-11-20', 'PermanentSourceError: the product API answered 404']]);

    // The operator's decision: --reprocess takes a distinct job id and leaves the failed one as it was.
    const again = await enqueuePartitions(r.queues, r.lake, [{ source: 'products', date: '2026-11-20' }], { trigger: 'manual', reprocess: true });
    expect(again.added[0]).toMatch(/^products__2026-11-20__r/);
    expect(await products.getJobState('products__2026-11-20')).toBe('failed');
  });
});

describe('schedulers', () => {
  it('three days down, then --serve: the overdue tick and the start-up catch-up (from today) give every day a job; the watch repairs a scheduler stuck in the past', async () => {
    const r = rig('serve', { CATCH_UP_DAYS: '7', SCHEDULE_WATCH_INTERVAL_MS: '200' });
    const now = Date.now();
    shiftClock(now - 3 * 86_400_000);
    await upsertSchedulers(r.tickQueue, r.redis, r.t.config);
    restoreClock();
    const overdueAt = (await r.tickQueue.getJobScheduler('daily-clickstream'))?.next ?? 0;
    const io = captureIo(r.t.env);
    const serving = scheduleCommand.run(['--serve'], io);
    const expected: string[] = [];
    for (let d = addDays(logicalDateForTick('clickstream', overdueAt, 'UTC'), -1); d <= logicalDateForTick('clickstream', now, 'UTC'); d = addDays(d, 1)) expected.push(`clickstream__${d}`);
    const clickstream = r.queues.get('clickstream') as IngestQueue;
    const tickId = `repeat:daily-clickstream:${overdueAt}`;
    try {
      // Wait (bounded) until the scheduler process has taken the overdue tick and caught up.
      let ids: string[] = [];
      let tickState = '';
      await waitUntil(
        'the overdue tick to complete and catch up',
        async () => {
          [ids, tickState] = [await jobIds(clickstream), await r.tickQueue.getJobState(tickId)];
          return tickState === 'completed' && expected.every((id) => ids.includes(id));
        },
        { everyMs: 100, state: () => `tick ${tickState}; jobs: ${ids.join(', ')}; stdout: ${io.out()}` },
      ).catch(() => undefined); // the assertion below says what is missing
      expect({ tickState, missing: expected.filter((id) => !ids.includes(id)) }, `jobs: ${ids.join(', ')}; stdout: ${io.out()}`).toEqual({ tickState: 'completed', missing: [] });
      expect((await r.queues.get('products')?.getJob(`products__${partitionDateOf(Date.now(), 'UTC')}`))?.data.trigger).toMatch(/^(catch-up|schedule)$/);
      expect((await readSchedulerHealth(r.tickQueue, Date.now())).every((h) => !h.overdue)).toBe(true);

      // A scheduler stuck while it runs (next time in the past, no tick job: what BullMQ leaves when it cannot compute
      // a next time) is repaired by the watch, every SCHEDULE_WATCH_INTERVAL_MS.
      const next = (await r.tickQueue.getJobScheduler('daily-products'))?.next ?? 0;
      // BullMQ refuses to remove a scheduler's job, so take it out of its keys directly.
      const jobId = `repeat:daily-products:${next}`;
      const keyOf = (name: string) => `${r.t.prefix}:${SCHEDULE_QUEUE}:${name}`;
      expect(await r.redis.zrem(keyOf('delayed'), jobId)).toBe(1);
      await r.redis.del(keyOf(jobId));
      await r.redis.zadd(`${r.t.prefix}:${SCHEDULE_QUEUE}:repeat`, Date.now() - 3_600_000, 'daily-products');
      expect((await readSchedulerHealth(r.tickQueue, Date.now())).find((h) => h.id === 'daily-products')?.stuck).toBe(true);
      let health = await readSchedulerHealth(r.tickQueue, Date.now());
      await waitUntil(
        'the watch to repair the stuck scheduler',
        async () => !(health = await readSchedulerHealth(r.tickQueue, Date.now())).some((h) => h.overdue),
        { everyMs: 100 },
      ).catch(() => undefined); // the assertion below shows which is still overdue
      expect(health.map((h) => [h.id, h.overdue]).sort()).toEqual([['daily-clickstream', false], ['daily-products', false]]);
    } finally {
      io.abort();
      expect(await serving).toBe(0);
    }
  });

  it('two replicas with different settings: the second refuses to start, naming each difference, until --replace', async () => {
    const r = rig('replicas');
    const first = captureIo(r.t.env);
    expect(await scheduleCommand.run([], first)).toBe(0);
    const otherCron = captureIo({ ...r.t.env, SCHEDULE_CRON_CLICKSTREAM: '30 4 * * *', SCHEDULE_TZ: 'America/New_York' });
    await expect(scheduleCommand.run([], otherCron)).rejects.toThrow(
      'schedule settings differ from the ones stored in Redis (SCHEDULE_CRON_CLICKSTREAM is "30 4 * * *" here but "0 2 * * *" in Redis; SCHEDULE_TZ is "America/New_York" here but "UTC" in Redis): run with the stored settings, or "recomart schedule --replace" to replace them for every replica',
    );
    // Nothing changed for the others.
    expect((await r.tickQueue.getJobScheduler('daily-clickstream'))?.pattern).toBe('0 2 * * *');
    expect((await readScheduleSettings(r.redis, r.t.prefix))?.tz).toBe('UTC');
    // A replica with the same settings starts.
    expect(await scheduleCommand.run([], captureIo(r.t.env))).toBe(0);
    const replacing = captureIo({ ...r.t.env, SCHEDULE_CRON_CLICKSTREAM: '30 4 * * *' });
    expect(await scheduleCommand.run(['--replace'], replacing)).toBe(0);
    expect(replacing.out()).toContain('replaced the stored schedule settings: SCHEDULE_CRON_CLICKSTREAM is "30 4 * * *" here but "0 2 * * *" in Redis');
    expect((await r.tickQueue.getJobScheduler('daily-clickstream'))?.pattern).toBe('30 4 * * *');
    expect((await readScheduleSettings(r.redis, r.t.prefix))?.cron.clickstream).toBe('30 4 * * *');
  });

  it('refuses, before connecting to Redis, a cron that does not fire every day in its zone, naming both', async () => {
    const io = captureIo({ REDIS_URL: 'redis://127.0.0.1:1', SCHEDULE_CRON_PRODUCTS: '0 3 * * 1', SCHEDULE_TZ: 'Europe/Berlin' });
    await expect(scheduleCommand.run([], io)).rejects.toThrow(/^SCHEDULE_CRON_PRODUCTS: cron "0 3 \* \* 1" in time zone Europe\/Berlin does not fire within 48 hours after /);
  });

  it('a restart with a changed cron keeps the overdue tick: stopped after 11-20, back at 11-21T05:00Z with a new cron, clickstream 11-20 is still enqueued', async () => {
    const r = rig('overdue', { CATCH_UP_DAYS: '0' });
    shiftClock(at('2026-11-20T12:00:00Z'));
    await upsertSchedulers(r.tickQueue, r.redis, r.t.config);
    const due = (await r.tickQueue.getJobScheduler('daily-clickstream'))?.next;
    expect(iso(due)).toBe('2026-11-21T02:00:00.000Z');
    shiftClock(at('2026-11-21T05:00:00Z'));
    const changed = loadConfig({ ...r.t.env, SCHEDULE_CRON_CLICKSTREAM: '0 6 * * *' });
    const outcome = await upsertSchedulers(r.tickQueue, r.redis, changed, { replace: true });
    expect(outcome.overdueKept).toEqual([`overdue:daily-clickstream:${due}`]);
    expect(iso((await r.tickQueue.getJobScheduler('daily-clickstream'))?.next)).toBe('2026-11-21T06:00:00.000Z');
    // The scheduler process takes every tick job there is: one of them is still the 02:00 one.
    const pending = await r.tickQueue.getJobs(['waiting', 'delayed', 'prioritized']);
    const overdue = pending.filter((j) => j.data.source === 'clickstream' && scheduledTimeOf(j) === due);
    expect(overdue.map((j) => j.id), `tick jobs: ${pending.map((j) => j.id).join(', ')}`).toHaveLength(1);
    const result = await r.processor(() => Date.now())(overdue[0] as NonNullable<(typeof overdue)[number]>);
    expect(result).toMatchObject({ date: '2026-11-20', enqueued: true });
    expect((await r.queues.get('clickstream')?.getJob('clickstream__2026-11-20'))?.data.trigger).toBe('schedule');
  });

  it('Lord Howe Island at 02:00: BullMQ\'s own cron stops the scheduler for good on the fall-back day and skips the spring-forward day; the guarded one does neither, and the watch repairs a stopped scheduler', async () => {
    const r = rig('lordhowe', { SCHEDULE_TZ: 'Australia/Lord_Howe' });
    const pattern = { pattern: '0 2 * * *', tz: 'Australia/Lord_Howe' };
    // BullMQ's default strategy (cron-parser in the zone). The tick of 2026-04-04 02:00 (+11:00) runs; the next one,
    // 04-05 02:00 after the clock fell back to 01:30, throws "loop limit exceeded" and BullMQ schedules nothing.
    const plain = new Queue<TickData>(SCHEDULE_QUEUE, { connection: r.redis, prefix: r.t.prefix });
    open.push(() => plain.close());
    shiftClock(at('2026-04-03T12:00:00Z'));
    await plain.upsertJobScheduler('daily-products', pattern, { name: 'tick', data: { source: 'products' } });
    expect(iso((await plain.getJobScheduler('daily-products'))?.next)).toBe('2026-04-03T15:00:00.000Z');
    await runOneTick(r, at('2026-04-03T15:00:01Z'), undefined);
    const health = await readSchedulerHealth(r.tickQueue, at('2026-04-05T00:00:00Z'));
    expect(health.find((h) => h.id === 'daily-products')).toMatchObject({ next: '2026-04-03T15:00:00.000Z', overdue: true, stuck: true });
    shiftClock(at('2026-04-05T00:00:00Z'));
    const status = captureIo(r.t.env);
    expect(await statusCommand.run([], status)).toBe(0);
    expect(status.out()).toContain('scheduler daily-products: "0 2 * * *" Australia/Lord_Howe · next 2026-04-03T15:00:00.000Z · IN THE PAST, no tick pending (the scheduler process repairs it)');

    // The scheduler process's watch repairs it: the next time is computed again, guarded, from now.
    shiftClock(at('2026-04-04T00:00:00Z'));
    expect(await repairSchedulers(r.tickQueue, Date.now(), r.t.logger)).toEqual(['daily-products']);
    expect(iso((await r.tickQueue.getJobScheduler('daily-products'))?.next)).toBe('2026-04-04T15:30:00.000Z'); // 04-05 02:00 +10:30
    expect((await readSchedulerHealth(r.tickQueue, Date.now())).find((h) => h.id === 'daily-products')).toMatchObject({ overdue: false, stuck: false });
    await runOneTick(r, at('2026-04-04T15:30:01Z'), tickRepeatStrategy);
    expect(iso((await r.tickQueue.getJobScheduler('daily-products'))?.next)).toBe('2026-04-05T15:30:00.000Z');

    // Spring forward, 2026-10-04 02:00 +10:30 → 02:30 +11:00: BullMQ's cron jumps to 10-05; the guarded one fires at 02:30.
    shiftClock(at('2026-10-02T12:00:00Z'));
    await plain.upsertJobScheduler('daily-clickstream', pattern, { name: 'tick', data: { source: 'clickstream' } });
    await runOneTick(r, at('2026-10-02T15:30:01Z'), undefined, 'clickstream');
    shiftClock(at('2026-10-02T12:00:00Z'));
    await r.tickQueue.upsertJobScheduler('daily-products', pattern, { name: 'tick', data: { source: 'products' } });
    await runOneTick(r, at('2026-10-02T15:30:01Z'), tickRepeatStrategy, 'products');
    expect(iso((await r.tickQueue.getJobScheduler('daily-clickstream'))?.next)).toBe('2026-10-04T15:00:00.000Z');
    expect(iso((await r.tickQueue.getJobScheduler('daily-products'))?.next)).toBe('2026-10-03T15:30:00.000Z');
  });
});

/** Moves the clock to `nowMs` and lets one BullMQ worker (with `repeatStrategy`, or BullMQ's default) take one tick. */
async function runOneTick(r: Rig, nowMs: number, repeatStrategy: typeof tickRepeatStrategy | undefined, source: SourceName = 'products'): Promise<void> {
  shiftClock(nowMs);
  const conn = r.redis.duplicate();
  const worker = new Worker<TickData>(SCHEDULE_QUEUE, async () => 'ok', { connection: conn, prefix: r.t.prefix, ...(repeatStrategy ? { settings: { repeatStrategy } } : {}) });
  worker.on('error', () => undefined); // BullMQ reports the failed next-time computation here
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${source} tick completed within 20 s`)), 20_000);
      worker.on('completed', (job) => {
        if (job.data.source !== source) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } finally {
    await worker.close();
    conn.disconnect();
  }
}

