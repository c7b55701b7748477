import { hostname } from 'node:os';

/** Every kind of event the audit log records. */
export const AUDIT_EVENT_TYPES = [
  'enqueued',
  'started',
  'progress',
  'retry-scheduled',
  'committed',
  'unchanged',
  'failed',
  'stalled',
  'completed',
  'operator-action',
  /** A schedule or catch-up found a partition whose job failed for good and left it for an operator. */
  'failed-for-good',
  /** A process found the Redis primary moved (Sentinel failover): `from` and `to` addresses. */
  'redis-failover',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * One line of the central audit log. `eventId` is unique per event and is what
 * readers de-duplicate on; `at` is when it happened (ISO-8601, UTC).
 */
export interface AuditEvent {
  eventId: string;
  type: AuditEventType;
  at: string;
  jobId?: string;
  source?: string;
  date?: string;
  runId?: string;
  attempt?: number;
  worker?: string;
  /** Event-specific details: version, records, error, delay, operator, action… */
  [detail: string]: unknown;
}

/** `host:pid`, the identity of this process in audit events and manifests. */
export function workerIdentity(): string {
  return `${hostname()}:${process.pid}`;
}

/** Checks that a parsed line is an audit event (used by the sink and readers). */
export function isAuditEvent(value: unknown): value is AuditEvent {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.eventId === 'string' &&
    typeof v.at === 'string' &&
    typeof v.type === 'string' &&
    (AUDIT_EVENT_TYPES as readonly string[]).includes(v.type)
  );
}
