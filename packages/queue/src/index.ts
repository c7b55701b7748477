export {
  createWorkerConnection,
  createProducerConnection,
  connectOrExplain,
  safeRedisUrl,
  RedisUnreachableError,
} from './redis-connection.js';
export { redisTarget, describeRedisSentinel, type RedisTarget } from './redis-target.js';
export { watchPrimary, type PrimaryChange } from './primary-watch.js';
export { connectGuarded, guardRedis, RedisPolicyError, type RedisGuardReport } from './redis-guard.js';
export { ingestJobOptions, ingestBackoff, INGEST_BACKOFF } from './job-options.js';
export {
  createIngestQueue,
  createIngestQueues,
  createIngestQueueEvents,
  closeAll,
  type IngestQueue,
  type IngestJobResult,
} from './queues.js';
export { AuditEmitter, auditStreamKey, AUDIT_STREAM_FIELD, type AuditEventInput } from './audit-stream.js';
export { RedisRequestBudget, requestBudgetKey, type RequestBudget } from './rate-budget.js';
export { nextFireTime, dailyScheduleProblem, tickRepeatStrategy, NoFireTimeError, MAX_TICK_GAP_MS } from './fire-times.js';
export {
  readScheduleSettings,
  requireScheduleSettings,
  writeScheduleSettings,
  settingsFromConfig,
  settingsDifferences,
  scheduleSettingsKey,
  checkPartitionZone,
  ScheduleSettingsMissingError,
  type ScheduleSettings,
} from './schedule-settings.js';
export { listFailedForGood, type FailedPartition, type PartitionLister } from './failed-partitions.js';
export {
  CommitFeed,
  commitFeedKey,
  COMMIT_FEED_FIELD,
  feedRecordsOf,
  parseCommitFeedEntry,
  type CommitFeedEntry,
  type CommitFeedRecord,
} from './commit-feed.js';
export { CommitFeedConsumer, type CommitFeedConsumerOptions } from './commit-feed-consumer.js';
