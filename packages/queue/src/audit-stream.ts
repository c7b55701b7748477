import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventType } from '@recomart/logging';
import type { Redis } from 'ioredis';

/** The Redis stream the workers append their rich audit events to. */
export function auditStreamKey(prefix: string): string {
  return `${prefix}:audit:events`;
}

/** The field of a stream entry that holds the event's JSON. */
export const AUDIT_STREAM_FIELD = 'event';

export type AuditEventInput = Omit<AuditEvent, 'eventId' | 'at' | 'type'> & { type: AuditEventType };

/**
 * Appends audit events to the central stream (`XADD … MAXLEN ~ N`). The sink
 * (`recomart audit-sink`) persists them; the stream is capped generously so
 * nothing is trimmed before the sink reads it.
 */
export class AuditEmitter {
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
    private readonly maxLen: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Builds and appends an event; resolves to the stored event (with its id). */
  async emit(input: AuditEventInput): Promise<AuditEvent> {
    const event: AuditEvent = { eventId: randomUUID(), at: this.now().toISOString(), ...input };
    await this.conn.xadd(auditStreamKey(this.prefix), 'MAXLEN', '~', String(this.maxLen), '*', AUDIT_STREAM_FIELD, JSON.stringify(event));
    return event;
  }
}
