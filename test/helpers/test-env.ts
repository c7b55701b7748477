import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@recomart/config';
import { createLogger, type Logger } from '@recomart/logging';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';

export interface TestEnv {
  /** The environment a spawned process or `loadConfig` gets. */
  env: Record<string, string>;
  config: Config;
  dataDir: string;
  prefix: string;
  logger: Logger;
  /** Lines the logger wrote (JSON strings). */
  logLines: string[];
  cleanup(): void;
}

/** A private queue prefix, a temp DATA_DIR, fast retries, no fixed ports and no landing settle time. */
export function makeTestEnv(name: string, overrides: Record<string, string> = {}): TestEnv {
  const dataDir = mkdtempSync(path.join(tmpdir(), `recomart-${name}-`));
  const prefix = `t-${name}-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    JOB_BACKOFF_MS: '50',
    JOB_ATTEMPTS: '3',
    WORKER_HTTP_PORT: '0',
    WORKER_LOCK_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    BOARD_PORT: '0',
    // Files a test lands are ingested at once (tests of the settle time set their own).
    CLICKSTREAM_SETTLE_MS: '0',
    ...overrides,
  };
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const config = loadConfig(env);
  const logger = createLogger({ app: name, level: 'debug', secrets: config.secrets, destination: sink });
  return {
    env,
    config,
    dataDir,
    prefix,
    logger,
    logLines,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Deletes every Redis key under a test prefix. */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', '1000');
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
