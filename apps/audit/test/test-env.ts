import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '@recomart/config';
import { createLogger, type Logger } from '@recomart/logging';
import { Redis } from 'ioredis';

/** A private queue prefix and data dir for one test file, and how to remove both. */
export interface TestEnv {
  readonly prefix: string;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly config: Config;
  readonly logger: Logger;
  readonly redis: Redis;
  cleanup(): Promise<void>;
}

export async function createTestEnv(extra: NodeJS.ProcessEnv = {}): Promise<TestEnv> {
  const prefix = `t-audit-${randomBytes(4).toString('hex')}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    AUDIT_FSYNC_EVERY_MS: '20',
    LOG_LEVEL: 'silent',
    ...extra,
  };
  const config = loadConfig(env);
  const redis = new Redis(config.redisUrl);
  return {
    prefix,
    dataDir,
    env,
    config,
    logger: createLogger({ app: 'test', level: 'silent' }),
    redis,
    async cleanup() {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
