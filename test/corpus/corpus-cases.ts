import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** What a clickstream input must come to. */
export interface ClickstreamExpectation {
  outcome: 'committed' | 'failed' | 'committed-then-failed';
  records?: number;
  rejected?: number;
  /** Rejected rows per reason, in `_rejected.ndjson` and in the manifest's `validation.rejectedByReason` (reasons not named: 0). */
  rejectedByReason?: Record<string, number>;
  /** The job's exact failedReason. */
  reason?: string;
  /** The file is kept byte for byte in `$DATA_DIR/quarantine/clickstream/<date>/<run>/`. */
  quarantined?: boolean;
  /** After the landing file is fixed, an operator retry of the failed job commits it. */
  retryAfterFix?: boolean;
  /** Attempts made before the job failed: 1 (the default) when it fails for good, JOB_ATTEMPTS when each attempt was retryable. */
  attempts?: number;
}

/** Another entry of the landing folder, landed beside the case's file. */
export interface LandedEntry {
  name: string;
  kind: 'file' | 'symlink' | 'fifo';
  /** A file's content. */
  text?: string;
  /** Where a symbolic link points (outside the landing zone). */
  target?: string;
}

export interface ClickstreamCase {
  case: string;
  /** Under `test/corpus/files/`. */
  file?: string;
  /** Built at test time (see `generatedBytes`). */
  generated?: 'ten-megabyte-field';
  landAs: string;
  /** Other entries of the day's landing folder. */
  also?: LandedEntry[];
  date: string;
  expect: ClickstreamExpectation;
}

export interface PayloadCase {
  case: string;
  /** The edited job data… */
  data?: unknown;
  /** …or its raw JSON (for keys such as `__proto__` that an object literal cannot carry)… */
  json?: string;
  /** …or data built at test time, too big to keep in this file. */
  generated?: 'five-megabyte-requested-by';
  expect: { reason?: string };
  /** Set when the product does not meet the expectation yet: what is wrong. */
  productBug?: string;
}

export interface Corpus {
  clickstream: ClickstreamCase[];
  payloads: PayloadCase[];
}

/** `test/corpus/expected.json` */
export function loadCorpus(): Corpus {
  return JSON.parse(readFileSync(path.join(HERE, 'expected.json'), 'utf8')) as Corpus;
}

/** The bytes of a case: its committed file, or the one built at test time. */
export function caseBytes(c: ClickstreamCase): Buffer {
  if (c.generated === 'ten-megabyte-field') {
    return Buffer.from(`user_id,product_id,event_type,timestamp,device\nu1,p1,view,${c.date}T10:00:00.000Z,${'x'.repeat(10 * 1024 * 1024)}\nu2,p2,view,${c.date}T10:01:00.000Z,web\n`);
  }
  if (c.file === undefined) throw new Error(`corpus case ${c.case} names no file`);
  return readFileSync(path.join(HERE, 'files', c.file));
}

/** The payload a case sets on the job. */
export function caseData(c: PayloadCase): unknown {
  if (c.generated === 'five-megabyte-requested-by') return { source: 'clickstream', date: '2024-06-01', trigger: 'manual', requestedBy: 'x'.repeat(5 * 1024 * 1024) };
  return c.json !== undefined ? (JSON.parse(c.json) as unknown) : c.data;
}
