// Redis housekeeping shared by the benchmarks.

/** Deletes every key under a benchmark's queue prefix. */
export async function dropPrefix(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000');
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
