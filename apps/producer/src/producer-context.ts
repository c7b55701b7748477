import { loadConfig, type Config } from '@recomart/config';
import { SCHEDULE_QUEUE, SOURCES, type SourceName } from '@recomart/jobs';
import { openLake, type Lake } from '@recomart/lake';
import { createLogger, type Logger } from '@recomart/logging';
import { AuditEmitter, closeAll, connectGuarded, connectOrExplain, createIngestQueues, createProducerConnection, tickRepeatStrategy, type IngestQueue, redisTarget } from '@recomart/queue';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TickData } from './scheduler-setup.js';

/** What a producer command works with; `close()` releases every connection. */
export interface ProducerContext {
  config: Config;
  logger: Logger;
  connection: Redis;
  queues: Map<SourceName, IngestQueue>;
  tickQueue: Queue<TickData>;
  lake: Lake;
  /** The central audit stream (failed-for-good reports). */
  audit: AuditEmitter;
  close(): Promise<void>;
}

/**
 * Loads config, connects to Redis failing fast with the exact instruction when
 * it is not there, and opens the queues and the lake. A command that writes to
 * Redis (`writes`, the default) first refuses an evicting Redis, as every
 * writing process does; `status` only reads.
 */
export async function openProducer(env: NodeJS.ProcessEnv, app = 'producer', loaded?: Config, options: { writes?: boolean } = {}): Promise<ProducerContext> {
  const config = loaded ?? loadConfig(env);
  const logger = createLogger({ app, level: config.log.level, format: config.log.format, color: config.log.color, secrets: config.secrets });
  const connection = createProducerConnection(redisTarget(config), `recomart-${app}`);
  connection.on('error', () => undefined); // reported by connectOrExplain / the failing command
  try {
    if (options.writes === false) await connectOrExplain(connection, redisTarget(config));
    // The AOF warning is the long-running processes' to give; a one-shot command's stdout may be --json.
    else await connectGuarded(connection, redisTarget(config), (m) => logger.debug({ event: 'redis-guard' }, m));
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  const queues = createIngestQueues(connection, config, SOURCES);
  const tickQueue = new Queue<TickData>(SCHEDULE_QUEUE, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
    // Next fire times of the schedulers created here: the guarded computation, as in the scheduler process.
    settings: { repeatStrategy: tickRepeatStrategy },
  });
  tickQueue.on('error', () => undefined); // connection errors are reported by the failing command
  const lake = openLake({ dataDir: config.dataDir, url: config.lake.url, s3: { ...config.lake.s3, debug: (m) => logger.debug(m) } });
  return {
    config,
    logger,
    connection,
    queues,
    tickQueue,
    lake,
    audit: new AuditEmitter(connection, config.queuePrefix, config.audit.streamMaxLen),
    async close() {
      await closeAll([...queues.values(), tickQueue]);
      connection.disconnect();
      logger.flush();
    },
  };
}
