import type { Config, SentinelConfig } from '@recomart/config';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Where a process finds Redis: a URL, or (REDIS_SENTINELS) the primary the
 * sentinels name, with the URL's user, password and database.
 */
export interface RedisTarget {
  readonly url: string;
  readonly sentinel?: SentinelConfig | undefined;
}

/** The Redis target of a config. */
export function redisTarget(config: Pick<Config, 'redisUrl' | 'redisSentinel'>): RedisTarget {
  return { url: config.redisUrl, sentinel: config.redisSentinel };
}

function asTarget(target: RedisTarget | string): RedisTarget {
  return typeof target === 'string' ? { url: target } : target;
}

/** `primary "mymaster" via sentinels 10.0.0.1:26379,…` or the URL itself, for messages and logs (no credentials). */
export function describeRedisSentinel(sentinel: SentinelConfig): string {
  return `primary "${sentinel.name}" via sentinels ${sentinel.sentinels.map((s) => `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`).join(',')}`;
}

/** Credentials and database from a redis:// URL, for a Sentinel-managed connection. */
function urlCredentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * The one place a Redis connection is constructed. With Sentinel: ioredis asks
 * the sentinels for the primary on every (re)connect, checks its role, and
 * (`failoverDetector`) drops the connection as soon as a sentinel announces
 * `+switch-master`; a command answered READONLY (a demoted primary) reconnects
 * and is re-sent to the new primary.
 */
export function newRedisConnection(target: RedisTarget | string, options: RedisOptions): Redis {
  const t = asTarget(target);
  if (!t.sentinel) return new Redis(t.url, options);
  return new Redis({
    ...urlCredentials(t.url),
    sentinels: t.sentinel.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: t.sentinel.name,
    ...(t.sentinel.password ? { sentinelPassword: t.sentinel.password } : {}),
    failoverDetector: true,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
    ...options,
  });
}

/** How a target is named in messages: the URL (made safe by the caller) or the sentinel description. */
export function targetLabel(target: RedisTarget | string, safeUrl: (url: string) => string): string {
  const t = asTarget(target);
  return t.sentinel ? describeRedisSentinel(t.sentinel) : safeUrl(t.url);
}
