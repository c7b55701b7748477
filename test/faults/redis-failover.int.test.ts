import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '@recomart/config';
import { addDays } from '@recomart/jobs';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { createIngestQueue, createWorkerConnection, redisTarget } from '@recomart/queue';
import { AuditTail, pidOf } from '../helpers/audit-tail.js';
import { startSentinelCluster, PRIMARY_PASSWORD, SENTINEL_PASSWORD, type SentinelCluster } from '../helpers/sentinel-cluster.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../helpers/worker-processes.js';
import { spawnRecomart, type CliProcess } from './cli-process.js';
import { FAULT_ENV } from './fault-stand.js';
import { reconcile } from './reconciler.js';

const FROM = '2026-08-01';
const DAYS = 16;
const DATES = Array.from({ length: DAYS }, (_, i) => addDays(FROM, i));
const TO = DATES[DATES.length - 1] as string;

let cluster: SentinelCluster | undefined;
let api: MockApiHandle | undefined;
let cli: CliProcess | undefined;
let tail: AuditTail | undefined;
let conn: Redis | undefined;
let dataDir: string | undefined;
const workers: WorkerProcess[] = [];
afterEach(async () => {
  cli?.kill();
  await stopWorkers(workers.splice(0), 'SIGKILL');
  tail?.close();
  conn?.disconnect();
  await api?.close();
  await cluster?.dispose();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  cluster = api = cli = tail = conn = dataDir = undefined;
});

describe('fault 18: the Redis primary dies mid-backfill behind Redis Sentinel', () => {
  it('workers and producer follow the promoted replica, the backfill completes, one version each, the audit log tells the failover', async () => {
    const t0 = Date.now();
    const steps: string[] = [];
    const step = (what: string) => steps.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    cluster = await startSentinelCluster();
    step('cluster ready');
    // Slow pages keep the backfill busy while the sentinels elect the new primary.
    api = await startMockProductApi({ port: 0, products: 30, seed: 'failover', latencyMs: 150 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-f-failover-'));
    const prefix = `t-f-failover-${randomBytes(4).toString('hex')}`;
    const env: Record<string, string> = {
      ...FAULT_ENV,
      ...cluster.env,
      QUEUE_PREFIX: prefix,
      DATA_DIR: dataDir,
      PRODUCTS_API_URL: api.url,
      PRODUCTS_PAGE_SIZE: '10',
      PRODUCTS_CONCURRENCY: '1',
      JOB_ATTEMPTS: '10',
    };
    const config = loadConfig(env);
    expect(config.redisSentinel?.sentinels).toHaveLength(3);
    conn = createWorkerConnection(redisTarget(config));
    conn.on('error', () => undefined);
    tail = new AuditTail(redisTarget(config), prefix);

    workers.push(spawnWorker(env, ['--sources', 'products', '--concurrency', '2']), spawnWorker(env, ['--sources', 'products', '--concurrency', '2']));
    await Promise.all(workers.map((w) => w.ready));
    cli = spawnRecomart(['backfill', '--source', 'products', '--from', FROM, '--to', TO, '--wait'], env);
    await cli.waitForOutput(`enqueued ${DAYS} new · 0 already queued · 0 already in the lake`);
    step('enqueued');

    // Kill the primary once a few partitions are in and most are still to come.
    await tail.waitForCount((e) => e.type === 'committed', 3, 60_000, '3 commits');
    await cluster.killPrimary();
    const killedAt = Date.now();
    step('primary killed');
    expect(await cluster.waitForNewPrimary(cluster.primaryPort)).toBe(cluster.replicaPort);
    step('replica promoted');

    // A bound so a stuck backfill fails with what it printed instead of hanging.
    const exit = await Promise.race([cli.exited, new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 120_000).unref())]);
    step('backfill done');
    expect(exit, `${steps.join(', ')}; backfill --wait after the failover:\n${cli.output().slice(-2000)}`).toBe(0);
    await tail.catchUp();
    const committedAfter = tail.seen.filter((e) => e.type === 'committed' && Date.parse(e.at) > killedAt);
    expect(committedAfter.length, `partitions committed after the primary died (${steps.join(', ')})`).toBeGreaterThan(0);
    // Each worker noticed the move and said so in the audit log.
    const failovers = tail.seen.filter((e) => e.type === 'redis-failover');
    expect(new Set(failovers.map((e) => pidOf(e.worker)))).toEqual(new Set(workers.map((w) => w.pid)));
    for (const e of failovers) expect(e).toMatchObject({ from: `127.0.0.1:${cluster.primaryPort}`, to: `127.0.0.1:${cluster.replicaPort}`, primary: 'ingest-primary' });

    const queue = createIngestQueue('products', conn, config);
    try {
      expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed')).toEqual({ completed: DAYS, failed: 0, waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
    const expected = DATES.map((date) => ({ source: 'products' as const, date }));
    const report = await reconcile({ dataDir, expected, audit: { redis: conn, prefix } });
    expect(report.problems).toEqual([]);
    for (const { date } of expected) expect(report.versions.get(`products ${date}`), date).toEqual([1]);
    // No password in any process's output.
    for (const text of [...workers.map((w) => w.output()), cli.output()]) {
      expect(text).not.toContain(PRIMARY_PASSWORD);
      expect(text).not.toContain(SENTINEL_PASSWORD);
    }
    // Setting up the sentinels alone takes ~10 s (they discover the replica through INFO every 10 s); the steps
    // above have bounds of their own that name what they waited for.
  }, 300_000);
});
