import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { runRecomart } from '../helpers/run-cli.js';

// Finding 12 of issue 12: a Redis that may evict keys (allkeys-lru) silently
// loses queued jobs, so every process that writes to Redis refuses it with the
// same message, before it writes anything.
describe('an evicting Redis', () => {
  let redis: PrivateRedis;
  let dataDir: string;
  beforeAll(async () => {
    redis = await startPrivateRedis({ policy: 'allkeys-lru' });
    dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-evicting-'));
  });
  afterAll(async () => {
    await redis.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const refusal =
    'Redis maxmemory-policy is "allkeys-lru", but it must be "noeviction" or queued jobs can be evicted: run "redis-cli config set maxmemory-policy noeviction" (and set it in redis.conf)';

  it('is refused by the worker, enqueue, backfill, schedule, the board and the audit sink, each with the same line and nothing written', async () => {
    const env = { REDIS_URL: redis.url, DATA_DIR: dataDir, QUEUE_PREFIX: 'evict', BOARD_USER: 'ops', BOARD_PASSWORD: 'board-pw-1', LOG_LEVEL: 'warn' };
    const commands: ReadonlyArray<readonly string[]> = [
      ['worker', '--no-http'],
      ['enqueue', '--source', 'products', '--date', '2026-01-05'],
      ['backfill', '--source', 'all', '--from', '2026-01-01', '--to', '2026-01-03'],
      ['schedule'],
      ['board', '--port', '0'],
      ['audit-sink'],
    ];
    const results = await Promise.all(commands.map((argv) => runRecomart(argv, env, { timeoutMs: 45_000 })));
    for (const [k, r] of results.entries()) {
      const name = (commands[k] as readonly string[])[0] as string;
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 1, stderr: `recomart ${name}: ${refusal}\n` });
    }
    const conn = new Redis(redis.url);
    try {
      expect(await conn.keys('evict:*')).toEqual([]);
    } finally {
      conn.disconnect();
    }
  });

  it('status (which only reads) still answers, so an operator can look', async () => {
    const r = await runRecomart(['status', '--json'], { REDIS_URL: redis.url, DATA_DIR: dataDir, QUEUE_PREFIX: 'evict' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('queues');
  });
});
