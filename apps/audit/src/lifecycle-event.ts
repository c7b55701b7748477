import type { SourceName } from '@recomart/jobs';
import type { AuditEvent, AuditEventType } from '@recomart/logging';
import { entryEventId, type StreamEntry } from './stream-entry.js';
import { streamIdTime } from './stream-id.js';

/** `clickstream__2026-11-20` and `clickstream__2026-11-20__r…` → `2026-11-20`. */
function dateOfJobId(jobId: string, source: SourceName): string | undefined {
  const m = new RegExp(`^${source}__(\\d{4}-\\d{2}-\\d{2})(?:__|$)`).exec(jobId);
  return m?.[1];
}

function parseJson(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/**
 * Which BullMQ lifecycle events the audit log keeps, and as what. BullMQ
 * writes `failed` only when a job fails for good (a retry writes `delayed` or
 * `waiting`); `waiting` after `failed`/`completed` is a job retried by hand.
 * Left out: `progress` (the worker's own event says more), `delayed` (also
 * written for jobs added with a delay, so it does not mean "retry"),
 * `waiting` after `active`/`delayed`, `drained`, `duplicated`, `deduplicated`,
 * `removed`, `cleaned`, `retries-exhausted` (it follows `failed`).
 */
function typeOf(fields: Readonly<Record<string, string>>): { type: AuditEventType; details: Record<string, unknown> } | null {
  switch (fields.event) {
    case 'added':
      return { type: 'enqueued', details: { name: fields.name } };
    case 'active':
      return { type: 'started', details: {} };
    case 'completed':
      return { type: 'completed', details: { result: parseJson(fields.returnvalue) } };
    case 'failed':
      return { type: 'failed', details: { error: fields.failedReason, final: true } };
    case 'stalled':
      return { type: 'stalled', details: {} };
    case 'waiting':
      return fields.prev === 'failed' || fields.prev === 'completed' ? { type: 'enqueued', details: { retriedFrom: fields.prev } } : null;
    default:
      return null;
  }
}

/**
 * Turns one entry of a queue's BullMQ events stream (`<prefix>:ingest-<source>:events`)
 * into an audit event, or null for events the log does not keep. The event's
 * id is `<stream>-<entryId>` and its time the entry's, so a re-read yields the
 * same event. `origin: 'queue'` tells these apart from the workers' events.
 */
export function lifecycleEventFromEntry(entry: StreamEntry, source: SourceName): AuditEvent | null {
  const jobId = entry.fields.jobId;
  if (jobId === undefined) return null;
  const mapped = typeOf(entry.fields);
  if (!mapped) return null;
  const date = dateOfJobId(jobId, source);
  const event: AuditEvent = {
    eventId: entryEventId(entry),
    type: mapped.type,
    at: streamIdTime(entry.id),
    jobId,
    source,
    ...(date ? { date } : {}),
    origin: 'queue',
    lifecycle: entry.fields.event,
  };
  for (const [k, v] of Object.entries(mapped.details)) if (v !== undefined) event[k] = v;
  return event;
}
