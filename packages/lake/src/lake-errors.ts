import { IngestError, TransientError } from '@recomart/jobs';

/** Thrown when a reader is asked for a version whose `_manifest.json` is missing, not JSON, or does not match the schema. Never retried: an operator must look (`recomart lake verify`). */
export class CorruptVersionError extends IngestError {
  override readonly name = 'CorruptVersionError';
  readonly retryable = false;
}

/** The error code of a Node system error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Turns an unexpected filesystem failure (ENOSPC, EIO, EMFILE …) into a
 * retryable `TransientError` naming what failed, with the original as `cause`.
 * Ingest errors pass through unchanged.
 */
export function ioFailure(err: unknown, what: string): IngestError {
  if (err instanceof IngestError) return err;
  const code = errorCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  const text = code && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
  return new TransientError(`lake: ${what} failed: ${text.replace(/\s*[\r\n]+\s*/g, ' ')}`, { cause: err });
}
