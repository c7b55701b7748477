export * from './errors.js';
export { classifyError, oneLine, type Classification } from './classify.js';
export * from './dates.js';
export { SOURCES, isSourceName, queueName, type SourceName } from './sources.js';
export { TRIGGERS, parsePayload, ingestJobId, type IngestPayload, type Trigger } from './payload.js';
export { SCHEDULE_QUEUE, schedulerId, TICK_DAY_OFFSET, logicalDateForTick, scheduledTimeOf } from './schedule.js';
