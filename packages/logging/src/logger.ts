import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Object paths whose values never reach a log line, whatever their content. */
export const REDACT_PATHS = ['password', 'token', 'apiToken', 'authorization', 'secrets', 'cookie'].flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
]);

/** `scheme://user:password@host` → `scheme://[REDACTED]@host`, anywhere in a line. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@"]*:[^\s/@"]*@/gi;
/** `Bearer abc…` → `Bearer [REDACTED]`. */
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

/** Removes known secret values, URL credentials and bearer tokens from one serialized line. */
export function scrubLine(line: string, secrets: readonly string[] = []): string {
  let out = line.replace(URL_CREDENTIALS, '$1[REDACTED]@').replace(BEARER, '$1[REDACTED]');
  for (const s of secrets) {
    if (!s) continue;
    out = out.split(s).join('[REDACTED]');
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out = out.split(escaped).join('[REDACTED]');
  }
  return out;
}

export interface RootLoggerOptions {
  /** The app name carried by every line (`worker`, `producer`, …). */
  app: string;
  /** @defaultValue 'info' */
  level?: string;
  /** Pretty output through the dev dependency pino-pretty. @defaultValue false */
  pretty?: boolean;
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
  if (options.pretty && !options.destination) {
    return pino({ ...opts, transport: { target: 'pino-pretty', options: { colorize: true } } });
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
