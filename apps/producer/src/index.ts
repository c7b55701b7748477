export { enqueueCommand, backfillCommand, scheduleCommand, statusCommand } from './commands.js';
export { enqueuePartitions, type EnqueueOptions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';
export { catchUp } from './catch-up.js';
export { upsertSchedulers, type SchedulerState, type TickData } from './scheduler-setup.js';
export { createTickProcessor, type TickJobLike, type TickResult } from './tick-processor.js';
export { startTickWorker } from './scheduler-runtime.js';
export { openProducer, type ProducerContext } from './producer-context.js';
export { waitForJobs, type WaitOutcome, type WaitProgress } from './wait-for-jobs.js';
export { readStatus, type StatusReport } from './status.js';
