export * from './errors.js';
export { classifyError, oneLine, type Classification } from './classify.js';
export * from './dates.js';
export { SOURCES, isSourceName, queueName, type SourceName } from './sources.js';
export { TRIGGERS, parsePayload, ingestJobId, type IngestPayload, type Trigger } from './payload.js';
export { SCHEDULE_QUEUE, schedulerId, TICK_DAY_OFFSET, logicalDateForTick, tickDates, scheduledTimeOf } from './schedule.js';
export { partitionDay, partitionDateOf, type PartitionDay } from './partition-day.js';
export { utcOffsetMs, wallClockOf, instantOfWallClock } from './zoned-time.js';
