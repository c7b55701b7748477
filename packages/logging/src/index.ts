export { createLogger, jobLogger, scrubLine, REDACT_PATHS, type Logger, type RootLoggerOptions, type LogFormat, type LogColor, type JobLogContext } from './logger.js';
export { AUDIT_EVENT_TYPES, isAuditEvent, workerIdentity, type AuditEvent, type AuditEventType } from './audit-event.js';
export { humanLine, type LogObject } from './human-line.js';
export { redactUrlSecrets, redactUrlValue, isSecretQueryParam } from './url-secrets.js';
export { echoInput, showText, ECHO_MAX_CHARS } from './echoed-input.js';
export { RepeatLimitedLog, type RepeatLimitedLogOptions } from './repeat-limited-log.js';
