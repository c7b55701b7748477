import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  connectOrExplain,
  createProducerConnection,
  guardRedis,
  RedisPolicyError,
  RedisUnreachableError,
} from '@recomart/queue';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../../test/helpers/private-redis.js';

// A private redis-server, so changing its maxmemory-policy cannot disturb
// other tests running against the shared one.
describe('Redis guard', () => {
  let redis: PrivateRedis;
  let conn: Redis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    conn = new Redis(redis.url);
  });
  afterAll(async () => {
    conn.disconnect();
    await redis.dispose();
  });

  it('accepts noeviction and warns when AOF is off', async () => {
    await conn.config('SET', 'maxmemory-policy', 'noeviction');
    await conn.config('SET', 'appendonly', 'no');
    const warnings: string[] = [];
    const report = await guardRedis(conn, (m) => warnings.push(m));
    expect(report.maxmemoryPolicy).toBe('noeviction');
    expect(report.aofEnabled).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('AOF persistence off');
  });

  it('refuses an evicting policy, then accepts again once it is restored', async () => {
    const [, before] = (await conn.config('GET', 'maxmemory-policy')) as [string, string];
    await conn.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      await expect(guardRedis(conn, () => undefined)).rejects.toThrow(RedisPolicyError);
      await expect(guardRedis(conn, () => undefined)).rejects.toThrow(
        'Redis maxmemory-policy is "allkeys-lru", but it must be "noeviction"',
      );
    } finally {
      await conn.config('SET', 'maxmemory-policy', before);
    }
    await expect(guardRedis(conn, () => undefined)).resolves.toMatchObject({ maxmemoryPolicy: 'noeviction' });
  });

  it('does not warn when AOF is on', async () => {
    await conn.config('SET', 'appendonly', 'yes');
    const warnings: string[] = [];
    const report = await guardRedis(conn, (m) => warnings.push(m));
    expect(report.aofEnabled).toBe(true);
    expect(warnings).toEqual([]);
    await conn.config('SET', 'appendonly', 'no');
  });
});

describe('unreachable Redis', () => {
  it('explains exactly what to do, without a stack trace', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const conn = createProducerConnection(url);
    conn.on('error', () => undefined);
    const err = await connectOrExplain(conn, url, 2000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisUnreachableError);
    expect((err as Error).message).toBe(
      `cannot reach Redis at ${url} (ECONNREFUSED): start it with "docker compose up -d redis" or set REDIS_URL`,
    );
    conn.disconnect();
  });

  it('never shows credentials from the URL', async () => {
    const port = await freePort();
    const url = `redis://admin:sup3rsecret@127.0.0.1:${port}`;
    const conn = createProducerConnection(url);
    conn.on('error', () => undefined);
    const err = (await connectOrExplain(conn, url, 2000).catch((e: unknown) => e)) as Error;
    expect(err.message).not.toContain('sup3rsecret');
    expect(err.message).toContain('redis://[REDACTED]@127.0.0.1');
    conn.disconnect();
  });
});
