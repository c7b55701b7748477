import type { Redis } from 'ioredis';
import { queueEventsStreamKey, readAuditLog } from '@recomart/audit';
import { SOURCES, type SourceName } from '@recomart/jobs';
import type { AuditEvent } from '@recomart/logging';
import { auditStreamKey } from '@recomart/queue';
import { auditEventOf } from '../helpers/audit-tail.js';

/** One terminal fact about a job: what a worker reported, or what BullMQ recorded. */
export interface TerminalEvent {
  /** `worker`: the workers' audit stream; `queue`: BullMQ's lifecycle stream; `log`: the audit sink's day files. */
  from: 'worker' | 'queue' | 'log';
  /** committed / unchanged (the worker), completed (the queue), failed (final). */
  type: 'committed' | 'unchanged' | 'completed' | 'failed';
  /** Epoch ms (the event's time, or the stream entry's). */
  at: number;
  version?: number;
  reason?: string;
  pid?: number;
}

/** A job's record in the audit trail. */
export interface JobRecord {
  jobId: string;
  /** Every worker event of the job, in order. */
  events: AuditEvent[];
  /** Terminal events from every place read, oldest first. */
  terminal: TerminalEvent[];
  /** The last terminal event, or undefined when the trail has none. */
  final: TerminalEvent | undefined;
}

function terminalOfWorkerEvent(e: AuditEvent): TerminalEvent | undefined {
  const at = Date.parse(e.at);
  const pid = Number(String(e.worker ?? '').split(':').pop());
  if (e.type === 'committed' || e.type === 'unchanged') return { from: 'worker', type: e.type, at, version: e.version as number, pid };
  if (e.type === 'failed' && e.final === true) return { from: 'worker', type: 'failed', at, reason: String(e.error), pid };
  return undefined;
}

function fieldsOf(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function byTime(a: TerminalEvent, b: TerminalEvent): number {
  return a.at - b.at;
}

/**
 * Reads the audit trail of `jobIds` from Redis: the workers' stream
 * (`<prefix>:audit:events`) and every ingest queue's BullMQ lifecycle stream
 * (`<prefix>:ingest-<source>:events`, where a failure by the stall limit is
 * recorded: no worker is alive to report it).
 */
export async function readJobRecords(redis: Redis, prefix: string, jobIds: readonly string[], sources: readonly SourceName[] = SOURCES): Promise<Map<string, JobRecord>> {
  const records = new Map<string, JobRecord>(jobIds.map((id) => [id, { jobId: id, events: [], terminal: [], final: undefined }]));
  for (const [, fields] of await redis.xrange(auditStreamKey(prefix), '-', '+')) {
    const e = auditEventOf(fields);
    const rec = e.jobId === undefined ? undefined : records.get(e.jobId);
    if (!rec) continue;
    rec.events.push(e);
    const t = terminalOfWorkerEvent(e);
    if (t) rec.terminal.push(t);
  }
  for (const source of sources) {
    for (const [id, flat] of await redis.xrange(queueEventsStreamKey(prefix, source), '-', '+')) {
      const f = fieldsOf(flat);
      const rec = f.jobId === undefined ? undefined : records.get(f.jobId);
      if (!rec) continue;
      const at = Number(id.split('-')[0]);
      if (f.event === 'completed') rec.terminal.push({ from: 'queue', type: 'completed', at });
      if (f.event === 'failed') rec.terminal.push({ from: 'queue', type: 'failed', at, reason: f.failedReason ?? '' });
    }
  }
  for (const rec of records.values()) {
    rec.terminal.sort(byTime);
    rec.final = rec.terminal[rec.terminal.length - 1];
  }
  return records;
}

/** The terminal events of `jobIds` in the audit sink's day files (`$DATA_DIR/logs/audit`). */
export async function readJobRecordsFromLog(logDir: string, jobIds: readonly string[]): Promise<Map<string, TerminalEvent[]>> {
  const wanted = new Set(jobIds);
  const out = new Map<string, TerminalEvent[]>(jobIds.map((id) => [id, []]));
  const { events } = await readAuditLog(logDir);
  for (const e of events) {
    if (e.jobId === undefined || !wanted.has(e.jobId)) continue;
    const list = out.get(e.jobId) as TerminalEvent[];
    const at = Date.parse(e.at);
    if (e.origin === 'queue') {
      if (e.type === 'completed') list.push({ from: 'log', type: 'completed', at });
      if (e.type === 'failed') list.push({ from: 'log', type: 'failed', at, reason: String(e.error) });
      continue;
    }
    const t = terminalOfWorkerEvent(e);
    if (t) list.push({ ...t, from: 'log' });
  }
  return out;
}
