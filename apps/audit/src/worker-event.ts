import { isAuditEvent, type AuditEvent } from '@recomart/logging';
import { AUDIT_STREAM_FIELD } from '@recomart/queue';
import { entryEventId, type StreamEntry } from './stream-entry.js';

/** Why an entry of the workers' audit stream could not be read as an audit event. */
export type UnreadableEntry = { readonly unreadable: string };

/**
 * Reads one entry of the workers' rich event stream (`<prefix>:audit:events`,
 * JSON in the `event` field). The event keeps the id its emitter gave it,
 * which is stored in the entry and so is the same on every re-read; an event
 * without a usable id gets `<stream>-<entryId>`.
 */
export function workerEventFromEntry(entry: StreamEntry): AuditEvent | UnreadableEntry {
  const raw = entry.fields[AUDIT_STREAM_FIELD];
  if (raw === undefined) return { unreadable: `no "${AUDIT_STREAM_FIELD}" field` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { unreadable: 'the event is not JSON' };
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const candidate = parsed as Record<string, unknown>;
    if (typeof candidate.eventId !== 'string' || candidate.eventId === '') candidate.eventId = entryEventId(entry);
  }
  if (!isAuditEvent(parsed)) return { unreadable: 'the JSON is not an audit event (eventId, at, known type)' };
  return parsed;
}
