import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { isAuditEvent, type AuditEvent } from '@recomart/logging';
import { dayOfFile } from './audit-log-paths.js';

/** Which events to return; every field narrows, none means all. */
export interface AuditQuery {
  source?: string;
  /** The job's logical date (the partition day), YYYY-MM-DD. */
  date?: string;
  jobId?: string;
  /** Only events at or after this instant (epoch ms). */
  sinceMs?: number;
}

export interface AuditReadResult {
  /** Matching events, each once, oldest first. */
  events: AuditEvent[];
  /** Lines dropped because their eventId was already read (a sink resumed after a crash). */
  duplicatesDropped: number;
  /** Lines that are not an audit event (a line torn by a crash). */
  unreadableLines: number;
  /** Day files read. */
  filesRead: number;
}

function matches(event: AuditEvent, query: AuditQuery): boolean {
  if (query.source !== undefined && event.source !== query.source) return false;
  if (query.date !== undefined && event.date !== query.date) return false;
  if (query.jobId !== undefined && event.jobId !== query.jobId) return false;
  if (query.sinceMs !== undefined && !(Date.parse(event.at) >= query.sinceMs)) return false;
  return true;
}

/** The day files under `logDir` (`yyyy/mm/dd.ndjson`) from `fromDay` on, oldest first. */
async function dayFiles(logDir: string, fromDay: string | undefined): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(logDir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, day: dayOfFile(name) }))
    .filter((f): f is { name: string; day: string } => f.day !== undefined && (fromDay === undefined || f.day >= fromDay))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))
    .map((f) => path.join(logDir, f.name));
}

/**
 * Reads the audit log's day files, keeps the events matching `query`, drops
 * duplicates by eventId (the sink may write an event twice after a crash,
 * always under the same id) and orders them by time (ties keep file order).
 */
export async function readAuditLog(logDir: string, query: AuditQuery = {}): Promise<AuditReadResult> {
  const fromDay = query.sinceMs === undefined ? undefined : new Date(query.sinceMs).toISOString().slice(0, 10);
  const files = await dayFiles(logDir, fromDay);
  const seen = new Set<string>();
  const events: AuditEvent[] = [];
  let duplicatesDropped = 0;
  let unreadableLines = 0;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        unreadableLines += 1;
        continue;
      }
      if (!isAuditEvent(parsed)) {
        unreadableLines += 1;
        continue;
      }
      if (!matches(parsed, query)) continue;
      if (seen.has(parsed.eventId)) {
        duplicatesDropped += 1;
        continue;
      }
      seen.add(parsed.eventId);
      events.push(parsed);
    }
  }
  const order = events.map((e, i) => {
    const t = Date.parse(e.at);
    return { e, i, t: Number.isNaN(t) ? Infinity : t };
  });
  order.sort((a, b) => a.t - b.t || a.i - b.i);
  return { events: order.map((o) => o.e), duplicatesDropped, unreadableLines, filesRead: files.length };
}
