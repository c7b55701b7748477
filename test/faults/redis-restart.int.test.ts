import { afterEach, describe, expect, it } from 'vitest';
import { addDays, SOURCES } from '@recomart/jobs';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { runRecomart } from '../helpers/run-cli.js';
import { spawnRecomart, type CliProcess } from './cli-process.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { FaultStand } from './fault-stand.js';
import { reconcile } from './reconciler.js';

let stand: FaultStand | undefined;
let redis: PrivateRedis | undefined;
let api: MockApiHandle | undefined;
let cli: CliProcess | undefined;
afterEach(async () => {
  cli?.kill();
  await stand?.close();
  await api?.close();
  await redis?.dispose();
  stand = undefined;
  redis = undefined;
  api = undefined;
  cli = undefined;
});

const FROM = '2026-07-01';
const DAYS = 20;
const DATES = Array.from({ length: DAYS }, (_, i) => addDays(FROM, i));
const TO = DATES[DATES.length - 1] as string;
const EXPECTED = SOURCES.flatMap((source) => DATES.map((date) => ({ source, date })));

/** The Redis server's run id (a new one after every start). */
async function runId(s: FaultStand): Promise<string> {
  return /run_id:(\w+)/.exec(await s.redis.info('server'))?.[1] ?? '';
}

async function backfillStand(name: string): Promise<FaultStand> {
  redis = await startPrivateRedis({ appendonly: true });
  // Slow pages keep the backfill busy long enough to restart Redis in the middle of it.
  api = await startMockProductApi({ port: 0, products: 30, seed: 'restart', latencyMs: 120 });
  const s = new FaultStand(name, { REDIS_URL: redis.url, PRODUCTS_API_URL: api.url, PRODUCTS_PAGE_SIZE: '10', PRODUCTS_CONCURRENCY: '1', JOB_ATTEMPTS: '10' });
  for (const date of DATES) await writeClickstreamDay(s.t.config.landingDir, date, 20_000);
  return s;
}

describe('fault 5: Redis restarted during a backfill run by real worker processes', () => {
  it.each([
    ['graceful (SIGTERM, AOF on)', false],
    ['killed (SIGKILL, AOF on)', true],
  ] as const)('%s: workers reconnect, no acknowledged enqueue is lost, the backfill completes', async (_name, kill) => {
    const s = (stand = await backfillStand(kill ? 'f-redis-kill' : 'f-redis-term'));
    const server = redis as PrivateRedis;
    await Promise.all([s.spawn(['--concurrency', '2']), s.spawn(['--concurrency', '2'])]);
    cli = spawnRecomart(['backfill', '--source', 'all', '--from', FROM, '--to', TO, '--wait'], s.env);
    await cli.waitForOutput(`enqueued ${DAYS * 2} new · 0 already queued · 0 already in the lake`);

    // Restart while the backlog is being worked through.
    await s.audit.waitForCount((e) => e.type === 'committed', 6, 60_000, '6 commits');
    await s.audit.catchUp();
    const doneBefore = s.audit.seen.filter((e) => e.type === 'committed').length;
    expect(doneBefore).toBeLessThan(DAYS * 2);
    const runIdBefore = await runId(s);
    if (kill) await server.stop(true);
    await server.restart();
    const restartedAt = Date.now();
    expect(await runId(s)).not.toBe(runIdBefore);

    expect(await cli.exited, cli.output()).toBe(0);
    // The workers came back by themselves: they committed partitions after the restart.
    await s.audit.catchUp();
    expect(s.audit.seen.filter((e) => e.type === 'committed' && Date.parse(e.at) > restartedAt).length).toBeGreaterThan(0);
    for (const source of SOURCES) {
      const counts = await s.queue(source).getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
      expect(counts, source).toMatchObject({ completed: DAYS, failed: 0, waiting: 0, active: 0, delayed: 0 });
    }
    const report = await reconcile({ dataDir: s.dataDir, expected: EXPECTED, audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    for (const { source, date } of EXPECTED) expect(report.versions.get(`${source} ${date}`), `${source} ${date}`).toEqual([1]);
    for (const rec of report.jobs.values()) expect(rec.final?.type, rec.jobId).toMatch(/^(committed|unchanged|completed)$/);
  });
});

describe('fault 6: Redis unreachable when the producer starts', () => {
  it('backfill exits 1 with the exact instruction; once Redis is back, running it again enqueues each partition once', async () => {
    redis = await startPrivateRedis();
    api = await startMockProductApi({ port: 0, products: 30, seed: 'down' });
    const s = (stand = new FaultStand('f-redis-down', { REDIS_URL: redis.url, PRODUCTS_API_URL: api.url, PRODUCTS_PAGE_SIZE: '10' }));
    const dates = DATES.slice(0, 5);
    const args = ['backfill', '--source', 'products', '--from', dates[0] as string, '--to', dates[4] as string];
    await redis.stop();

    const down = await runRecomart(args, s.env);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe('');
    expect(down.stderr.trim().split('\n')).toEqual([
      `recomart backfill: cannot reach Redis at ${redis.url} (ECONNREFUSED): start it with "docker compose up -d redis" or set REDIS_URL`,
    ]);

    await redis.restart();
    const first = await runRecomart(args, s.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('enqueued 5 new · 0 already queued · 0 already in the lake');
    const again = await runRecomart(args, s.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('enqueued 0 new · 5 already queued · 0 already in the lake');
    expect(await s.queue('products').getJobCounts('waiting')).toEqual({ waiting: 5 });

    await s.spawn();
    const expected = dates.map((date) => ({ source: 'products' as const, date }));
    for (const { date } of expected) await s.audit.waitFor((e) => e.jobId === `products__${date}` && e.type === 'committed');
    await s.audit.catchUp();
    expect(s.audit.seen.filter((e) => e.type === 'started')).toHaveLength(5);
    const report = await reconcile({ dataDir: s.dataDir, expected, audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    for (const { date } of expected) expect(report.versions.get(`products ${date}`)).toEqual([1]);
  });
});
