import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '@recomart/logging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../src/audit-log-reader.js';

let dir: string;

const ev = (eventId: string, at: string, extra: Partial<AuditEvent> = {}): AuditEvent => ({
  eventId,
  type: 'started',
  at,
  source: 'clickstream',
  date: '2026-11-20',
  jobId: 'clickstream__2026-11-20',
  ...extra,
});

async function write(day: string, lines: string[]): Promise<void> {
  const [y, m, d] = day.split('-') as [string, string, string];
  await mkdir(path.join(dir, y, m), { recursive: true });
  await appendFile(path.join(dir, y, m, `${d}.ndjson`), lines.join('\n') + '\n');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 't-audit-reader-'));
  await write('2026-11-21', [
    JSON.stringify(ev('a', '2026-11-21T02:00:00.000Z')),
    JSON.stringify(ev('b', '2026-11-21T02:00:05.000Z', { type: 'failed', error: 'x' })),
    '{"eventId":"torn","type":"sta', // a line torn by a crash…
    JSON.stringify(ev('b', '2026-11-21T02:00:05.000Z', { type: 'failed', error: 'x' })), // …and the event written again
    JSON.stringify(ev('p', '2026-11-21T03:00:00.000Z', { source: 'products', date: '2026-11-21', jobId: 'products__2026-11-21' })),
  ]);
  await write('2026-11-22', [
    JSON.stringify(ev('d', '2026-11-22T01:00:00.000Z', { type: 'committed', version: 1 })),
    JSON.stringify(ev('c', '2026-11-22T00:59:00.000Z', { type: 'operator-action', operator: 'alice', action: 'retry' })),
  ]);
  await mkdir(path.join(dir, 'notes'), { recursive: true });
  await appendFile(path.join(dir, 'notes', 'readme.ndjson'), 'not a day file\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readAuditLog', () => {
  it('returns each event once, oldest first, and counts torn lines and duplicates', async () => {
    const r = await readAuditLog(dir);
    expect(r.events.map((e) => e.eventId)).toEqual(['a', 'b', 'p', 'c', 'd']);
    expect(r.duplicatesDropped).toBe(1);
    expect(r.unreadableLines).toBe(1);
    expect(r.filesRead).toBe(2);
  });

  it('answers "what happened to clickstream on 2026-11-20"', async () => {
    const r = await readAuditLog(dir, { source: 'clickstream', date: '2026-11-20' });
    expect(r.events.map((e) => e.eventId)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('narrows by job and by time', async () => {
    expect((await readAuditLog(dir, { jobId: 'products__2026-11-21' })).events.map((e) => e.eventId)).toEqual(['p']);
    const since = await readAuditLog(dir, { sinceMs: Date.parse('2026-11-21T02:30:00Z') });
    expect(since.events.map((e) => e.eventId)).toEqual(['p', 'c', 'd']);
    const later = await readAuditLog(dir, { sinceMs: Date.parse('2026-11-22T00:00:00Z') });
    expect(later.filesRead).toBe(1);
  });

  it('finds nothing, without failing, where no log exists yet', async () => {
    const r = await readAuditLog(path.join(dir, 'missing'));
    expect(r).toEqual({ events: [], duplicatesDropped: 0, unreadableLines: 0, filesRead: 0 });
  });
});
