import { InvalidInputError, parseLogicalDate } from '@recomart/jobs';
import { echoInput } from '@recomart/logging';

/** What a source name must look like: it is a folder name under `raw/`. */
export const SOURCE_NAME_RE = /^[a-z][a-z0-9_-]{0,63}$/;

/** What a run id must look like: it is a folder name under `quarantine/`. */
export const RUN_ID_RE = /^[A-Za-z0-9_][A-Za-z0-9._:@=+-]{0,199}$/;

/** One segment of a file name inside a version: letters, digits and `._-=+@,`, not starting with a dot. */
const SEGMENT_RE = /^[A-Za-z0-9_=+@,-][A-Za-z0-9._=+@,-]*$/;

/**
 * Longest file name (whole relative path) accepted inside a version.
 * @defaultValue 512 characters
 */
export const MAX_FILE_NAME_LENGTH = 512;
/** Longest single path segment, in UTF-8 bytes (the common filesystem limit). */
export const MAX_SEGMENT_BYTES = 255;
/** Deepest sub-folder nesting accepted inside a version. */
export const MAX_FILE_DEPTH = 16;

/** Names the lake writes itself at the top of a version or quarantine folder (`_claim.json`, `_abandoned.json`: in a bucket only). */
export const RESERVED_FILE_NAMES: ReadonlySet<string> = new Set(['_manifest.json', '_manifest.json.sha256', '_reason.json', '_claim.json', '_abandoned.json']);

/**
 * Checks a source name before it becomes a folder.
 * @throws InvalidInputError `source must match ^[a-z][a-z0-9_-]{0,63}$, got "../x"`
 */
export function checkSourceName(value: unknown, label = 'source'): string {
  if (typeof value !== 'string' || !SOURCE_NAME_RE.test(value)) {
    throw new InvalidInputError(`${label} must match ${SOURCE_NAME_RE.source}, got ${echoInput(value)}`);
  }
  return value;
}

/**
 * Checks a logical date (strict calendar date, YYYY-MM-DD).
 * @throws InvalidInputError `date must be a calendar date as YYYY-MM-DD, got "2024-02-30"`
 */
export function checkDate(value: unknown, label = 'date'): string {
  return parseLogicalDate(value, label);
}

/**
 * Checks a run id before it becomes a quarantine folder.
 * @throws InvalidInputError `runId must match ^[A-Za-z0-9_][A-Za-z0-9._:@=+-]{0,199}$, got "../x"`
 */
export function checkRunId(value: unknown): string {
  if (typeof value !== 'string' || !RUN_ID_RE.test(value)) {
    throw new InvalidInputError(`runId must match ${RUN_ID_RE.source}, got ${echoInput(value)}`);
  }
  return value;
}

/**
 * Checks a job id (kept in the manifest only): 1 to 512 characters, no control characters.
 * @throws InvalidInputError `jobId must be 1 to 512 characters without control characters, got ""`
 */
export function checkJobId(value: unknown, label = 'jobId'): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 512 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidInputError(`${label} must be 1 to 512 characters without control characters, got ${echoInput(value)}`);
  }
  return value;
}

/**
 * Checks an attempt number (0 or more).
 * @throws InvalidInputError `attempt must be a whole number from 0, got -1`
 */
export function checkAttempt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`attempt must be a whole number from 0, got ${echoInput(value)}`);
  }
  return value;
}

/**
 * Checks a version number (1 or more).
 * @throws InvalidInputError `version must be a whole number from 1, got 0`
 */
export function checkVersion(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidInputError(`version must be a whole number from 1, got ${echoInput(value)}`);
  }
  return value;
}

/** Why a file name is refused, or undefined when it is fine. */
export function fileNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'it is not a string';
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_FILE_NAME_LENGTH) return `it is longer than ${MAX_FILE_NAME_LENGTH} characters`;
  if (name.includes('\u0000')) return 'it contains a NUL character';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.includes('%')) return 'it contains "%" (percent-encoded names are refused)';
  if (name.startsWith('/')) return 'it is an absolute path';
  const segments = name.split('/');
  if (segments.length > MAX_FILE_DEPTH) return `it is nested deeper than ${MAX_FILE_DEPTH} folders`;
  for (const segment of segments) {
    if (segment === '') return 'it has an empty path segment';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`;
    if (!SEGMENT_RE.test(segment)) return `segment ${JSON.stringify(segment)} has a character other than letters, digits and ._-=+@, or starts with "."`;
  }
  if (RESERVED_FILE_NAMES.has(name)) return 'the name is reserved for the lake';
  return undefined;
}

/**
 * Checks a file name inside a version: a relative path (sub-folders allowed,
 * e.g. `pages/0001.json`), no traversal, no encoded names, not reserved.
 * @throws InvalidInputError `file name "../x" is refused: it has a ".." segment`
 */
export function checkFileName(name: unknown): string {
  const problem = fileNameProblem(name);
  if (problem !== undefined) {
    throw new InvalidInputError(`file name ${echoInput(name)} is refused: ${problem}`);
  }
  return name as string;
}
