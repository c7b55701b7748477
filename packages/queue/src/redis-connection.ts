import { redactUrlSecrets } from '@recomart/logging';
import type { Redis, RedisOptions } from 'ioredis';
import { newRedisConnection, targetLabel, type RedisTarget } from './redis-target.js';

/** Thrown when Redis does not answer at start-up; the message tells the operator what to do. */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/** `redis://user:pass@host?password=x` → `redis://[REDACTED]@host?password=[REDACTED]`, for messages. */
export function safeRedisUrl(url: string): string {
  return redactUrlSecrets(url);
}

/** Reconnect quickly and forever: 100 ms, 200 ms … capped at 2 s. */
function reconnectDelay(times: number): number {
  return Math.min(times * 100, 2000);
}

/**
 * A connection for BullMQ workers and queue event listeners: blocking
 * commands, retried forever (`maxRetriesPerRequest: null`), reconnecting by
 * itself after a Redis restart.
 */
export function createWorkerConnection(target: RedisTarget | string, name?: string): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: reconnectDelay,
    ...(name ? { connectionName: name } : {}),
  };
  return newRedisConnection(target, options);
}

/**
 * A connection for producers (CLI commands): commands fail fast instead of
 * queueing while Redis is away (`enableOfflineQueue: false`), so an operator
 * gets an error instead of a hang. Call `connectOrExplain` before use.
 */
export function createProducerConnection(target: RedisTarget | string, name?: string): Redis {
  return newRedisConnection(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectTimeout: 3000,
    retryStrategy: reconnectDelay,
    ...(name ? { connectionName: name } : {}),
  });
}

/**
 * Connects a lazily created connection, or throws RedisUnreachableError with
 * the exact instruction: `cannot reach Redis at redis://127.0.0.1:6379 (ECONNREFUSED):
 * start it with "docker compose up -d redis" or set REDIS_URL`.
 */
export async function connectOrExplain(conn: Redis, target: RedisTarget | string, timeoutMs = 3000): Promise<void> {
  if (conn.status === 'ready') return;
  let lastCode = 'timeout';
  let failFast: ((err: Error) => void) | undefined;
  const onError = (err: NodeJS.ErrnoException) => {
    lastCode = err.code ?? err.message;
    // A refused or unresolvable address will not fix itself in the next seconds.
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') failFast?.(err);
  };
  conn.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      failFast = (err) => done(err);
      const done = (err?: Error) => {
        clearTimeout(timer);
        conn.off('ready', onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      conn.once('ready', onReady);
      if (conn.status === 'wait') conn.connect().catch((err: unknown) => {
        if (err instanceof Error && (err as NodeJS.ErrnoException).code) lastCode = (err as NodeJS.ErrnoException).code as string;
      });
    });
  } catch {
    conn.disconnect();
    throw new RedisUnreachableError(
      `cannot reach Redis at ${targetLabel(target, safeRedisUrl)} (${lastCode}): start it with "docker compose up -d redis" or set REDIS_URL`,
    );
  } finally {
    conn.off('error', onError);
  }
}
