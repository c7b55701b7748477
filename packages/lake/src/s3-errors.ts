import { IngestError, TransientError } from '@recomart/jobs';

/** Thrown when the object store refuses the lake's own settings (wrong credentials, a missing bucket, no permission): retrying cannot help until an operator changes them. */
export class LakeSettingsError extends IngestError {
  override readonly name = 'LakeSettingsError';
  readonly retryable = false;
}

/** What an S3 client error carries that decides its fate. */
interface S3ErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The S3 error code (`NoSuchBucket`, `SlowDown` …) or the Node error code (`ECONNREFUSED` …). */
export function s3ErrorCode(err: unknown): string | undefined {
  const e = err as S3ErrorShape | undefined;
  for (const c of [e?.Code, e?.code, e?.name]) if (typeof c === 'string' && c !== '' && c !== 'Error') return c;
  return undefined;
}

/** The HTTP status of an S3 answer, when there was one. */
export function s3Status(err: unknown): number | undefined {
  const s = (err as S3ErrorShape | undefined)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Codes meaning the credentials themselves were refused. */
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError', 'ExpiredToken', 'InvalidToken']);

/** Where the lake's settings come from, for messages that name the one to fix. */
export interface S3Settings {
  bucket: string;
  endpoint: string | undefined;
}

/**
 * Turns an S3 client failure into a named ingest error: refused credentials,
 * a missing bucket or a denied access fail for good with one line naming the
 * setting to fix (never the secret); anything else (a dropped connection,
 * `503 SlowDown` after the client's own retries, a timeout) is a retryable
 * `TransientError` naming what failed.
 */
export function s3Failure(err: unknown, what: string, settings: S3Settings): IngestError {
  if (err instanceof IngestError) return err;
  const code = s3ErrorCode(err) ?? 'unknown error';
  const status = s3Status(err);
  if (CREDENTIAL_CODES.has(code)) {
    return new LakeSettingsError(
      `lake: the S3 endpoint refused the credentials (${code}) while ${what}: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the AWS profile)`,
      { cause: err },
    );
  }
  if (code === 'NoSuchBucket') {
    return new LakeSettingsError(`lake: bucket ${JSON.stringify(settings.bucket)} of LAKE_URL does not exist (NoSuchBucket) at ${settings.endpoint ?? 'AWS S3'}`, { cause: err });
  }
  if (code === 'AccessDenied' || status === 403) {
    return new LakeSettingsError(`lake: access to bucket ${JSON.stringify(settings.bucket)} of LAKE_URL was denied (${code}) while ${what}: check the credentials' permissions`, { cause: err });
  }
  const msg = err instanceof Error ? err.message.replace(/\s*[\r\n]+\s*/g, ' ') : String(err);
  const detail = msg !== '' && msg !== code ? `${code}${status === undefined ? '' : ` ${status}`}: ${msg}` : `${code}${status === undefined ? '' : ` ${status}`}`;
  return new TransientError(`lake: ${what} failed: ${detail}`, { cause: err });
}
