import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '@recomart/config';
import { settingsFromConfig, writeScheduleSettings } from '@recomart/queue';
import { startWorker } from '@recomart/worker';
import { dropPrefix, makeTestEnv } from '../../../test/helpers/test-env.js';

describe('worker and the stored partition zone', () => {
  const t = makeTestEnv('partzone');
  const redis = new Redis(t.config.redisUrl);
  afterAll(async () => {
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });

  it('refuses to start with a PARTITION_TZ other than the one the schedule stored (it would judge rows by another day), starts with the same', async () => {
    await writeScheduleSettings(redis, t.prefix, { ...settingsFromConfig(t.config), partitionTz: 'Asia/Tokyo' });
    const refused = startWorker({ config: t.config, logger: t.logger, httpPort: null });
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(
      'PARTITION_TZ is "UTC" here but "Asia/Tokyo" in the stored schedule settings: every process must use one partition day (set PARTITION_TZ=Asia/Tokyo, or change it for all with "recomart schedule --replace")',
    );
    const running = await startWorker({ config: loadConfig({ ...t.env, PARTITION_TZ: 'Asia/Tokyo' }), logger: t.logger, httpPort: null });
    await running.close(1000);
  });
});
