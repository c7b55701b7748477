export { enqueueCommand, backfillCommand, scheduleCommand, statusCommand } from './commands.js';
export { enqueuePartitions, type EnqueueOptions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';
export { catchUp } from './catch-up.js';
export { upsertSchedulers, checkSchedules, ScheduleRefusedError, ScheduleSettingsConflictError, type SchedulerState, type TickData, type UpsertOutcome } from './scheduler-setup.js';
export {
  readScheduleSettings,
  writeScheduleSettings,
  settingsFromConfig,
  scheduleSettingsKey,
  ScheduleSettingsMissingError,
  type ScheduleSettings,
} from '@recomart/queue';
export { readSchedulerHealth, repairSchedulers, OVERDUE_GRACE_MS, type SchedulerHealth } from './scheduler-watch.js';
export { readScheduleStatus, type ScheduleStatus } from './schedule-status.js';
export { createTickProcessor, type TickDeps, type TickJobLike, type TickResult } from './tick-processor.js';
export { startTickWorker, watchRound } from './scheduler-runtime.js';
export { openProducer, type ProducerContext } from './producer-context.js';
export { waitForJobs, type WaitOutcome, type WaitProgress } from './wait-for-jobs.js';
export { readStatus, type StatusReport } from './status.js';
