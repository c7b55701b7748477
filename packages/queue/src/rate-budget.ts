import type { Redis } from 'ioredis';

/**
 * GCRA in one Lua call: requests are spaced `interval` ms apart across every
 * process sharing the key, using Redis' clock. Returns 0 when the caller may
 * go now, else how many ms to wait before asking again.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
local interval = tonumber(ARGV[1])
if tat > now then return tat - now end
local nextTat = now + interval
redis.call('SET', KEYS[1], nextTat, 'PX', interval + 1000)
return 0
`;

/** A request budget every worker shares, e.g. 20 requests/s to the product API. */
export interface RequestBudget {
  /** Resolves when this caller may send one request; rejects when `signal` aborts. */
  take(signal?: AbortSignal): Promise<void>;
}

/**
 * A request budget shared through Redis by every worker on every host, so N
 * workers together never exceed `perSecond` requests a second.
 */
export class RedisRequestBudget implements RequestBudget {
  private readonly interval: number;

  constructor(
    private readonly conn: Redis,
    private readonly key: string,
    perSecond: number,
  ) {
    if (!(perSecond > 0)) throw new Error(`a request budget needs a positive rate, got ${perSecond}`);
    this.interval = Math.ceil(1000 / perSecond);
  }

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = Number(await this.conn.eval(TAKE, 1, this.key, String(this.interval)));
      if (wait <= 0) return;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, wait);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

/** The Redis key of a source's shared request budget. */
export function requestBudgetKey(prefix: string, source: string): string {
  return `${prefix}:budget:${source}`;
}
