import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import { humanLine, type LogObject } from './human-line.js';
import { redactUrlSecrets } from './url-secrets.js';

export type { Logger } from 'pino';

/** Object paths whose values never reach a log line, whatever their content. */
export const REDACT_PATHS = ['password', 'token', 'apiToken', 'authorization', 'secrets', 'cookie'].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
]);

/** `Bearer abc…` → `Bearer [REDACTED]`. */
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

/** Removes known secret values, URL credentials, secret query values and bearer tokens from one serialized line. */
export function scrubLine(line: string, secrets: readonly string[] = []): string {
  let out = redactUrlSecrets(line).replace(BEARER, '$1[REDACTED]');
  for (const s of secrets) {
    if (!s) continue;
    out = out.split(s).join('[REDACTED]');
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out = out.split(escaped).join('[REDACTED]');
  }
  return out;
}

/** How log lines are written: JSON objects, human lines, or decided by whether stdout is a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';
/** Whether human lines highlight warnings and errors. */
export type LogColor = 'auto' | 'always' | 'never';

export interface RootLoggerOptions {
  /** The app name carried by every line (`worker`, `producer`, …). */
  app: string;
  /** @defaultValue 'info' */
  level?: string;
  /**
   * `json`: one JSON object a line (containers, pipes, log shippers). `pretty`: one
   * compact human line an event (pino-pretty with `humanLine` as its message format).
   * `auto`: pretty when stdout is a terminal, else JSON. @defaultValue 'auto'
   */
  format?: LogFormat;
  /** Highlight warnings and errors in pretty lines; `auto`: when stdout is a terminal. @defaultValue 'auto' */
  color?: LogColor;
  /** Secret values (from the config) that must never appear in a line. */
  secrets?: readonly string[];
  /** Where lines go. @defaultValue stdout (fd 1) */
  destination?: DestinationStream;
}

/**
 * The root logger of one process: JSON lines on stdout, secrets redacted by
 * path and by value. Pass it (or its children) in; never import a global.
 */
export function createLogger(options: RootLoggerOptions): Logger {
  const secrets = options.secrets ?? [];
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    base: { app: options.app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      streamWrite: (line: string) => scrubLine(line, secrets),
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  const terminal = options.destination === undefined && process.stdout.isTTY === true;
  const format = options.format ?? 'auto';
  if (format === 'pretty' || (format === 'auto' && terminal)) {
    const color = options.color === 'always' || ((options.color ?? 'auto') === 'auto' && terminal);
    const pretty = pinoPretty({
      destination: options.destination ?? 1,
      sync: true,
      colorize: false,
      hideObject: true,
      ignore: 'time,level,pid,hostname,app',
      messageFormat: (log: LogObject) => humanLine(log, color),
    });
    return pino(opts, pretty);
  }
  return pino(opts, options.destination ?? pino.destination({ fd: 1, sync: false }));
}

/** The context every job-scoped line carries. */
export interface JobLogContext {
  queue?: string;
  jobId?: string;
  source?: string;
  date?: string;
  attempt?: number;
  runId?: string;
}

/** A child logger for one job (or one queue), carrying its context on every line. */
export function jobLogger(parent: Logger, context: JobLogContext): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) if (v !== undefined) bindings[k] = v;
  return parent.child(bindings);
}
