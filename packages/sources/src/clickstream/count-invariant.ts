import { TransientError } from '@recomart/jobs';

/** How one file's lines were accounted for by its pass. */
export interface FileLineCounts {
  /** Lines of text (a last line without a line ending counts). */
  readonly lines: number;
  /** Data rows (each counted from the line it starts on). */
  readonly rows: number;
  /** Blank lines (not rows). */
  readonly blank: number;
  /** Line ends inside quoted fields: lines that continue the header or a row. */
  readonly quotedLineBreaks: number;
}

/** The day's counts as the manifest will state them. */
export interface DayCounts {
  readonly rows: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Per file: its rows and rejected rows. */
  readonly files: ReadonlyArray<{ readonly file: string; readonly rows: number; readonly rejected: number }>;
  /** Lines written to `_rejected.ndjson`. */
  readonly rejectedLines: number;
}

/**
 * Thrown instead of committing a manifest whose counts do not add up: some
 * row was not validated exactly once (a parsing or pipeline fault, never the
 * data's). Retried: nothing was committed and the next attempt reads the file
 * again.
 */
export function countMismatch(what: string, problem: string): TransientError {
  return new TransientError(`${what}: counts do not add up (${problem}); nothing committed`);
}

/**
 * Every line of a file is exactly one of: the header line, the first line of
 * a row, a blank line, or the continuation of a quoted field.
 * @returns the problem, or undefined when the lines add up.
 */
export function fileLinesProblem(c: FileLineCounts): string | undefined {
  const accounted = 1 + c.rows + c.blank + c.quotedLineBreaks;
  if (accounted === c.lines) return undefined;
  return `${c.lines} lines, but 1 header + ${c.rows} rows + ${c.blank} blank + ${c.quotedLineBreaks} inside quotes = ${accounted}`;
}

/**
 * Rows are accepted or rejected, every rejected one is a line of
 * `_rejected.ndjson`, and the files add up to the day.
 * @returns every problem found, joined, or undefined.
 */
export function dayCountsProblem(c: DayCounts): string | undefined {
  const problems: string[] = [];
  if (c.accepted + c.rejected !== c.rows) problems.push(`${c.accepted} accepted + ${c.rejected} rejected ≠ ${c.rows} rows`);
  if (c.rejectedLines !== c.rejected) problems.push(`${c.rejectedLines} lines in _rejected.ndjson ≠ ${c.rejected} rejected`);
  const fileRows = c.files.reduce((n, f) => n + f.rows, 0);
  const fileRejected = c.files.reduce((n, f) => n + f.rejected, 0);
  if (fileRows !== c.rows) problems.push(`the files' rows add up to ${fileRows} ≠ ${c.rows}`);
  if (fileRejected !== c.rejected) problems.push(`the files' rejected rows add up to ${fileRejected} ≠ ${c.rejected}`);
  return problems.length === 0 ? undefined : problems.join('; ');
}
