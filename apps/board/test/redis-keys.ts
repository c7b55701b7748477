import type { Redis } from 'ioredis';

/** Deletes every Redis key under a test's queue prefix. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}
