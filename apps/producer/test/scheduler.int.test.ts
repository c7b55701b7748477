import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { loadConfig } from '@recomart/config';
import { SCHEDULE_QUEUE, schedulerId, type SourceName } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { createIngestQueues, type IngestQueue } from '@recomart/queue';
import { createTickProcessor, upsertSchedulers, type TickData } from '@recomart/producer';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';

async function commitPartition(dataDir: string, source: SourceName, date: string): Promise<void> {
  const lake = openLake({ dataDir });
  const s = await lake.begin({ source, date, runId: `seed-${date}`, jobId: 'seed', attempt: 1 });
  await s.writeFile('x.txt', 'seed', `${source} ${date}`);
  await s.commit({ records: 1, rejected: 0, validation: {} });
}

describe('schedules', () => {
  let t: TestEnv;
  let redis: Redis;
  let queues: Map<SourceName, IngestQueue>;
  let tickQueue: Queue<TickData>;

  beforeAll(() => {
    t = makeTestEnv('sched', { CATCH_UP_DAYS: '3' });
    redis = new Redis(t.config.redisUrl);
    queues = createIngestQueues(redis, t.config);
    tickQueue = new Queue<TickData>(SCHEDULE_QUEUE, { connection: redis, prefix: t.prefix });
  });
  afterAll(async () => {
    await Promise.all([...queues.values(), tickQueue].map((q) => q.close()));
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });

  it('a tick scheduled at 02:00 on 2026-11-25 ingests clickstream for 2026-11-24; a retried tick the same date', async () => {
    const lake = openLake({ dataDir: t.dataDir });
    const process = createTickProcessor({ config: t.config, lake, queues, logger: t.logger });
    const scheduledAt = Date.parse('2026-11-25T02:00:00Z');
    const first = await process({ id: `repeat:daily-clickstream:${scheduledAt}`, data: { source: 'clickstream' }, timestamp: scheduledAt - 60_000, opts: { prevMillis: scheduledAt } });
    expect(first).toMatchObject({ source: 'clickstream', date: '2026-11-24', enqueued: true, scheduledAt: '2026-11-25T02:00:00.000Z' });
    // The same tick retried two days later (a late or retried job) still means 2026-11-24.
    const retried = await process({ id: `repeat:daily-clickstream:${scheduledAt}`, data: { source: 'clickstream' }, timestamp: scheduledAt + 2 * 86_400_000, opts: { prevMillis: scheduledAt } });
    expect(retried.date).toBe('2026-11-24');
    expect(retried.enqueued).toBe(false); // already queued: no second job
    const job = await queues.get('clickstream')?.getJob('clickstream__2026-11-24');
    expect(job?.data).toEqual({ source: 'clickstream', date: '2026-11-24', trigger: 'schedule', requestedBy: 'scheduler' });
    // Products snapshot the tick's own day.
    const p = await process({ data: { source: 'products' }, timestamp: 0, opts: { prevMillis: Date.parse('2026-11-25T03:00:00Z') } });
    expect(p.date).toBe('2026-11-25');
  });

  it('uses SCHEDULE_TZ for the calendar day of the tick', async () => {
    const config = loadConfig({ ...t.env, SCHEDULE_TZ: 'America/New_York' });
    const lake = openLake({ dataDir: t.dataDir });
    const process = createTickProcessor({ config, lake, queues, logger: t.logger });
    // 02:00 in New York on 2026-11-25 is 07:00 UTC.
    const r = await process({ data: { source: 'clickstream' }, timestamp: 0, opts: { prevMillis: Date.parse('2026-11-25T07:00:00Z') } });
    expect(r.date).toBe('2026-11-24');
    // 23:30 in New York on 2026-11-25 is already 2026-11-26 in UTC: still the New York day.
    const late = await process({ data: { source: 'products' }, timestamp: 0, opts: { prevMillis: Date.parse('2026-11-26T04:30:00Z') } });
    expect(late.date).toBe('2026-11-25');
  });

  it('catch-up enqueues the recent partitions that have no committed version', async () => {
    await commitPartition(t.dataDir, 'products', '2026-10-09');
    const lake = openLake({ dataDir: t.dataDir });
    const process = createTickProcessor({ config: t.config, lake, queues, logger: t.logger });
    const r = await process({ data: { source: 'products' }, timestamp: 0, opts: { prevMillis: Date.parse('2026-10-10T03:00:00Z') } });
    expect(r.date).toBe('2026-10-10');
    // CATCH_UP_DAYS=3: 2026-10-08 and 2026-10-10 are missing (10-10 itself was just enqueued), 10-09 is in the lake.
    expect(r.caughtUp).toEqual(['products__2026-10-08']);
    const job = await queues.get('products')?.getJob('products__2026-10-08');
    expect(job?.data.trigger).toBe('catch-up');
    expect(await queues.get('products')?.getJob('products__2026-10-09')).toBeUndefined();
  });

  it('three concurrent schedule runs leave exactly one scheduler and one pending tick per source', async () => {
    const results = await Promise.all([0, 1, 2].map(async () => {
      const conn = new Redis(t.config.redisUrl);
      const q = new Queue<TickData>(SCHEDULE_QUEUE, { connection: conn, prefix: t.prefix });
      try {
        return await upsertSchedulers(q, conn, t.config);
      } finally {
        await q.close();
        conn.disconnect();
      }
    }));
    // Exactly one of the three runs created each scheduler; the others found it unchanged.
    for (const source of ['clickstream', 'products'] as const) {
      const created = results.map((r) => r.find((s) => s.source === source)?.changed);
      expect(created.filter(Boolean)).toHaveLength(1);
    }
    const schedulers = await tickQueue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual([schedulerId('clickstream'), schedulerId('products')]);
    expect(schedulers.find((s) => s.key === 'daily-clickstream')).toMatchObject({ pattern: '0 2 * * *', tz: 'UTC' });
    const delayed = await tickQueue.getDelayed();
    expect(delayed.map((j) => j.data.source).sort()).toEqual(['clickstream', 'products']);
    // The real tick job carries its scheduled time, from which the date follows.
    const tick = delayed.find((j) => j.data.source === 'clickstream');
    const next = schedulers.find((s) => s.key === 'daily-clickstream')?.next;
    expect(tick?.opts.prevMillis).toBe(next);
    expect(new Date(next ?? 0).toISOString()).toMatch(/T02:00:00\.000Z$/);
  });

  it('changing the cron updates the scheduler in place', async () => {
    const config = loadConfig({ ...t.env, SCHEDULE_CRON_PRODUCTS: '30 4 * * *' });
    const states = await upsertSchedulers(tickQueue, redis, config);
    expect(states.find((s) => s.source === 'products')).toMatchObject({ changed: true, pattern: '30 4 * * *' });
    expect(states.find((s) => s.source === 'clickstream')?.changed).toBe(false);
    const schedulers = await tickQueue.getJobSchedulers();
    expect(schedulers).toHaveLength(2);
    expect((await tickQueue.getDelayed()).filter((j) => j.data.source === 'products')).toHaveLength(1);
  });
});
