import { IngestError } from './errors.js';

export interface Classification {
  /** Whether another attempt may succeed. */
  retryable: boolean;
  /** The error's class name, for audit events and metrics. */
  errorClass: string;
  /** One human-readable line: the job's failedReason. */
  reason: string;
  /** A wait the source asked for, when it did. */
  retryAfterMs: number | undefined;
}

/** Codes of Node errors that never get better by retrying. */
const PERMANENT_NODE_CODES = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE']);

/** Collapses any message to one line of at most 500 characters. */
export function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

/**
 * The one place where a thrown value becomes a retry decision. Named ingest
 * errors say it themselves; anything else (an fs error such as ENOSPC or EIO,
 * a socket error, a bug) is retried, since retrying is harmless: the lake
 * commits identical content once.
 */
export function classifyError(err: unknown): Classification {
  if (err instanceof IngestError) {
    return { retryable: err.retryable, errorClass: err.name, reason: oneLine(err.message), retryAfterMs: err.retryAfterMs };
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const retryable = !(code && PERMANENT_NODE_CODES.has(code));
    const prefix = code ? `${code}: ` : '';
    const msg = err.message.startsWith(code ?? '\u0000') ? err.message : prefix + err.message;
    return { retryable, errorClass: err.name || 'Error', reason: oneLine(msg), retryAfterMs: undefined };
  }
  return { retryable: true, errorClass: 'Unknown', reason: oneLine(String(err)), retryAfterMs: undefined };
}
