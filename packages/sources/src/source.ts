import type { Config } from '@recomart/config';
import type { SourceName } from '@recomart/jobs';
import type { Lake } from '@recomart/lake';

/** What a source reports while it streams (shown as BullMQ job progress). */
export interface SourceProgress {
  bytes?: number;
  rows?: number;
  pages?: number;
  rejected?: number;
}

/** Minimal structured logger a source writes to (a pino logger fits). */
export interface SourceLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Everything one run of a source gets: who it is, where to write, how to report. */
export interface SourceContext {
  source: SourceName;
  /** The logical date, already validated. */
  date: string;
  runId: string;
  jobId: string;
  attempt: number;
  lake: Lake;
  config: Config;
  logger: SourceLogger;
  /** Aborted when the job must stop (shutdown); sources stop streaming promptly. */
  signal: AbortSignal;
  progress(p: SourceProgress): void;
  /**
   * A request budget shared by every worker (through Redis); a source that
   * calls an API takes one unit before each request. Absent = no shared limit.
   */
  requestBudget?: { take(signal?: AbortSignal): Promise<void> };
}

/** What a run committed (or found unchanged). */
export interface SourceResult {
  status: 'committed' | 'unchanged';
  version: number;
  records: number;
  rejected: number;
  files: number;
  bytes: number;
}

/** A source: one function from a context to a lake commit. Throws ingest errors (`@recomart/jobs`). */
export type Source = (ctx: SourceContext) => Promise<SourceResult>;
