export { auditSinkCommand } from './audit-sink-command.js';
export { auditQueryCommand, parseSince } from './audit-query-command.js';
export { startAuditSink, queueEventsStreamKey, type AuditSink, type AuditSinkOptions } from './audit-sink.js';
export { readAuditLog, type AuditQuery, type AuditReadResult } from './audit-log-reader.js';
export { formatTimeline, describeEvent } from './audit-timeline.js';
export { auditLogDir, checkpointPath, dayFileOf } from './audit-log-paths.js';
