import type { Redis } from 'ioredis';
import { connectOrExplain } from './redis-connection.js';
import type { RedisTarget } from './redis-target.js';

/** Thrown when Redis could evict queue keys (maxmemory-policy other than noeviction): BullMQ would lose jobs. */
export class RedisPolicyError extends Error {
  override readonly name = 'RedisPolicyError';
}

export interface RedisGuardReport {
  maxmemoryPolicy: string;
  aofEnabled: boolean;
  version: string;
}

function infoField(info: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return m?.[1]?.trim();
}

/**
 * Reads `maxmemory-policy` and AOF state. Refuses (RedisPolicyError) unless
 * the policy is `noeviction`; a warning (via `warn`) when AOF is off, since a
 * Redis restart would then lose acknowledged jobs.
 */
export async function guardRedis(conn: Redis, warn: (message: string) => void): Promise<RedisGuardReport> {
  const memory = await conn.info('memory');
  let policy = infoField(memory, 'maxmemory_policy');
  if (!policy) {
    const reply = (await conn.config('GET', 'maxmemory-policy')) as string[];
    policy = reply[1];
  }
  const persistence = await conn.info('persistence');
  const server = await conn.info('server');
  const aofEnabled = infoField(persistence, 'aof_enabled') === '1';
  const version = infoField(server, 'redis_version') ?? 'unknown';
  if (policy !== 'noeviction') {
    throw new RedisPolicyError(
      `Redis maxmemory-policy is "${policy ?? 'unknown'}", but it must be "noeviction" or queued jobs can be evicted: run "redis-cli config set maxmemory-policy noeviction" (and set it in redis.conf)`,
    );
  }
  if (!aofEnabled) {
    warn('Redis has AOF persistence off (appendonly no): a Redis restart loses queued jobs; enable appendonly yes in production');
  }
  return { maxmemoryPolicy: policy, aofEnabled, version };
}

/**
 * What every process that writes to Redis does before its first write (worker,
 * `enqueue`, `backfill`, `schedule`, the board, the audit sink): connect,
 * failing fast with the instruction when Redis is not there, then refuse an
 * evicting Redis with the one RedisPolicyError message.
 *
 * @throws RedisUnreachableError when Redis does not answer
 * @throws RedisPolicyError when its maxmemory-policy is not `noeviction`
 */
export async function connectGuarded(conn: Redis, target: RedisTarget | string, warn: (message: string) => void, timeoutMs?: number): Promise<RedisGuardReport> {
  await connectOrExplain(conn, target, timeoutMs);
  return guardRedis(conn, warn);
}
