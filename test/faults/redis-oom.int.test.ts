import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { runRecomart } from '../helpers/run-cli.js';
import { spawnRecomart, type CliProcess } from './cli-process.js';

// Finding 11 of issue 12: Redis out of memory (maxmemory 3mb, noeviction).
describe('Redis out of memory', () => {
  let redis: PrivateRedis;
  let conn: Redis;
  let dataDir: string;
  let worker: CliProcess | undefined;
  const prefix = 'oom';
  beforeAll(async () => {
    redis = await startPrivateRedis();
    conn = new Redis(redis.url);
    dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-oom-'));
  });
  afterAll(async () => {
    worker?.kill();
    conn.disconnect();
    await redis.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({ REDIS_URL: redis.url, DATA_DIR: dataDir, QUEUE_PREFIX: prefix, BACKFILL_MAX_DAYS: '5000' });
  // 1,250 days × 2 sources = 2,500 partitions.
  const backfill = ['backfill', '--source', 'all', '--from', '2020-01-01', '--to', '2023-06-03'];
  const waiting = async () => (await conn.llen(`${prefix}:ingest-clickstream:wait`)) + (await conn.llen(`${prefix}:ingest-products:wait`));

  it('backfill says how many partitions it enqueued, which, and that a re-run is safe; the re-run enqueues the rest', async () => {
    await conn.config('SET', 'maxmemory', '3mb');
    const first = await runRecomart(backfill, env(), { timeoutMs: 60_000 });
    const inRedis = await waiting();
    expect(first.code, first.stderr).toBe(1);
    const m = /^recomart backfill: stopped after enqueuing (\d+) of 2500 partition\(s\): Redis is out of memory \(maxmemory\): "OOM command not allowed[^\n]*"; \1 enqueued: clickstream 2020-01-01\.\.[0-9-]+ \(\d+\)(, products 2020-01-01\.\.[0-9-]+ \(\d+\))?\. To resume, free memory or raise maxmemory, then run the same command again: it is safe \(partitions already queued or in the lake are skipped\)\n$/.exec(first.stderr);
    expect(m, first.stderr).not.toBeNull();
    expect(Number(m?.[1])).toBe(inRedis);
    expect(inRedis).toBeGreaterThan(0);
    expect(inRedis).toBeLessThan(2500);

    await conn.config('SET', 'maxmemory', '0');
    const again = await runRecomart(backfill, env(), { timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`enqueued ${2500 - inRedis} new · ${inRedis} already queued`);
    expect(await waiting()).toBe(2500);
  });

  it('a worker on a full Redis writes the first "worker error" line and then one "N more suppressed" line a window', async () => {
    const used = Number(/used_memory:(\d+)/.exec(await conn.info('memory'))?.[1]);
    await conn.config('SET', 'maxmemory', String(Math.floor(used / 2)));
    worker = spawnRecomart(['worker', '--no-http'], { ...env(), LOG_FORMAT: 'json', LOG_REPEAT_WINDOW_MS: '1000' });
    const lines = (): Array<Record<string, unknown>> =>
      worker!
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const errorLines = () => lines().filter((l) => typeof l.msg === 'string' && l.msg.startsWith('worker error'));
    // Until two summaries, or (without the limit) a flood of lines: whichever comes first.
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        const errors = errorLines();
        if (errors.filter((l) => l.suppressed !== undefined).length >= 2 || errors.length >= 300) {
          worker!.child.stdout?.off('data', check);
          resolve();
        }
      };
      worker!.child.stdout?.on('data', check);
      void worker!.exited.then((code) => reject(new Error(`worker exited (${code}): ${worker!.output().slice(-2000)}`)));
    });
    worker.kill();
    const errors = errorLines();
    const summaries = errors.filter((l) => l.suppressed !== undefined);
    expect(summaries.length, errors.slice(0, 5).map((l) => JSON.stringify(l)).join('\n')).toBeGreaterThanOrEqual(2);
    for (const s of summaries) {
      expect(s.err).toMatch(/^OOM command not allowed/);
      expect(s.msg).toBe(`worker error (${String(s.suppressed)} more suppressed in 1 s)`);
      expect(s.suppressed as number).toBeGreaterThan(0);
    }
    // Per queue: one line, then at most one summary and one fresh line a window.
    expect(errors.length).toBeLessThanOrEqual(2 * (2 * summaries.length + 2));
  });
});
