import { z } from 'zod';
import { isLogicalDate } from './dates.js';
import { InvalidInputError } from './errors.js';
import { SOURCES, type SourceName } from './sources.js';
import { ECHO_MAX_CHARS, echoInput } from '@recomart/logging';

export const TRIGGERS = ['schedule', 'backfill', 'manual', 'catch-up'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** The data of an ingest job: plain JSON, one (source, date) partition. */
export interface IngestPayload {
  source: SourceName;
  date: string;
  trigger: Trigger;
  requestedBy?: string;
}

const payloadSchema = z
  .object({
    source: z.enum(SOURCES),
    date: z.string().refine(isLogicalDate, 'must be a calendar date as YYYY-MM-DD'),
    trigger: z.enum(TRIGGERS),
    requestedBy: z.string().max(200).optional(),
  })
  .strict();

/**
 * Validates job data as `unknown` (Bull Board can edit it, so the worker checks again).
 * @throws InvalidInputError naming every bad field, e.g. `job data is invalid: source: must be one of clickstream, products, got "../../etc"`
 */
export function parsePayload(data: unknown): IngestPayload {
  const result = payloadSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.join('.') || '(root)';
    const got = issue.path.reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined),
      data,
    );
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.join(', ');
      return `unknown field(s) ${keys.length <= ECHO_MAX_CHARS ? keys : echoInput(keys)}`;
    }
    if (issue.code === 'invalid_value') return `${path}: must be one of ${issue.values.join(', ')}, got ${echoInput(got)}`;
    return `${path}: ${issue.message}, got ${echoInput(got)}`;
  });
  throw new InvalidInputError(`job data is invalid: ${problems.join('; ')}`);
}

/**
 * The job id of a partition: `<source>__<date>`, so the same partition is
 * queued once while waiting or active. `reprocess` adds a unique suffix so a
 * completed partition can be ingested again on purpose.
 */
export function ingestJobId(source: SourceName, date: string, reprocess?: { nonce: string }): string {
  const base = `${source}__${date}`;
  return reprocess ? `${base}__r${reprocess.nonce}` : base;
}
