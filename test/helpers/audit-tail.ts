import { Redis } from 'ioredis';
import type { AuditEvent } from '@recomart/logging';
import { auditStreamKey, AUDIT_STREAM_FIELD, createWorkerConnection, type RedisTarget } from '@recomart/queue';

/** The pid at the end of a worker identity `host:pid`. */
export function pidOf(worker: unknown): number {
  return Number(String(worker).split(':').pop());
}

/** Parses one entry of the workers' audit stream. */
export function auditEventOf(fields: readonly string[]): AuditEvent {
  return JSON.parse(fields[fields.indexOf(AUDIT_STREAM_FIELD) + 1] as string) as AuditEvent;
}

/**
 * Reads the audit stream `stream` after `cursor` (XREAD BLOCK on `reader`) until
 * `jobId` reports `started`, and returns the pid of the worker process running it.
 */
export async function startedWorkerPid(reader: Redis, stream: string, cursor: string, jobId: string): Promise<number> {
  for (;;) {
    const res = (await reader.xread('BLOCK', 10_000, 'STREAMS', stream, cursor)) as Array<[string, Array<[string, string[]]>]> | null;
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        cursor = id;
        const e = auditEventOf(fields);
        if (e.jobId === jobId && e.type === 'started') return pidOf(e.worker);
      }
    }
  }
}

/**
 * Follows the workers' audit stream (`<prefix>:audit:events`) with XREAD BLOCK
 * on a connection of its own, so tests wait on what the workers report instead
 * of sleeping. Every event read is kept in `seen`. The connection retries
 * forever, so a tail survives a Redis restart.
 */
export class AuditTail {
  readonly seen: AuditEvent[] = [];
  private readonly conn: Redis;
  private readonly key: string;
  private cursor: string;

  /**
   * @param redis a URL, or a target with sentinels (the tail then follows a failover)
   * @param from stream id to read after: `'0'` for everything, `'$'`-like "now" via `AuditTail.fromNow`.
   */
  constructor(redis: string | RedisTarget, prefix: string, from = '0') {
    this.conn =
      typeof redis === 'string' ? new Redis(redis, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 100, 1000) }) : createWorkerConnection(redis);
    this.conn.on('error', () => undefined);
    this.key = auditStreamKey(prefix);
    this.cursor = from;
  }

  /** A tail that starts after the stream's current last entry. */
  static async fromNow(redisUrl: string, prefix: string): Promise<AuditTail> {
    const probe = new Redis(redisUrl);
    try {
      const last = await probe.xrevrange(auditStreamKey(prefix), '+', '-', 'COUNT', 1);
      return new AuditTail(redisUrl, prefix, last[0]?.[0] ?? '0');
    } finally {
      probe.disconnect();
    }
  }

  /**
   * Resolves with the first event (already seen, or arriving within `timeoutMs`)
   * that matches; rejects when none comes in time.
   */
  async waitFor(match: (e: AuditEvent) => boolean, timeoutMs = 60_000, what = 'a matching audit event'): Promise<AuditEvent> {
    const [first] = await this.waitForCount(match, 1, timeoutMs, what);
    return first as AuditEvent;
  }

  /** Resolves with the events (seen so far or arriving within `timeoutMs`) that match, once there are at least `count`. */
  async waitForCount(match: (e: AuditEvent) => boolean, count: number, timeoutMs = 60_000, what = `${count} matching audit events`): Promise<AuditEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hits = this.seen.filter(match);
      if (hits.length >= count) return hits;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; seen: ${this.seen.map((e) => `${e.type}:${e.jobId ?? ''}`).join(' ')}`);
      await this.read(Math.min(left, 2000));
    }
  }

  /** One XREAD, blocking up to `blockMs` when the stream has nothing new; answers how many events it read. */
  private async read(blockMs?: number): Promise<number> {
    const reply = (
      blockMs === undefined
        ? await this.conn.xread('COUNT', 1000, 'STREAMS', this.key, this.cursor)
        : await this.conn.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.key, this.cursor)
    ) as Array<[string, Array<[string, string[]]>]> | null;
    let n = 0;
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        this.cursor = id;
        this.seen.push(auditEventOf(fields));
        n += 1;
      }
    }
    return n;
  }

  /** Reads everything the stream holds now (without blocking), so `seen` and `of` are up to date. */
  async catchUp(): Promise<void> {
    while ((await this.read()) > 0);
  }

  /** The events of one job seen so far (call `catchUp` first for all of them), in order. */
  of(jobId: string): AuditEvent[] {
    return this.seen.filter((e) => e.jobId === jobId);
  }

  close(): void {
    this.conn.disconnect();
  }
}
