import type { AuditEvent } from '@recomart/logging';
import { describe, expect, it } from 'vitest';
import { describeEvent, formatTimeline } from '../src/audit-timeline.js';

const base = { at: '2026-11-21T02:00:00.000Z', jobId: 'clickstream__2026-11-20', source: 'clickstream', date: '2026-11-20' };

describe('the audit timeline', () => {
  it('says which version a commit wrote and what it held', () => {
    const e: AuditEvent = { ...base, eventId: '1', type: 'committed', version: 3, files: 2, records: 1000, rejected: 4, bytes: 2048, durationMs: 1500 };
    expect(describeEvent(e)).toBe('committed version 3 (2 files, 1000 records, 4 rejected, 2.0 KiB, in 1.5 s)');
  });

  it('says why an attempt failed and whether it was the last', () => {
    const e: AuditEvent = { ...base, eventId: '2', type: 'failed', errorClass: 'SchemaMismatchError', error: 'header is a,b', final: true };
    expect(describeEvent(e)).toBe('SchemaMismatchError: header is a,b (final)');
  });

  it('names the operator, the action and the job', () => {
    const e: AuditEvent = { ...base, eventId: '3', type: 'operator-action', operator: 'alice', action: 'retry', queue: 'ingest-clickstream' };
    expect(describeEvent(e)).toBe('alice ran retry on queue ingest-clickstream, job clickstream__2026-11-20');
  });

  it('keeps terminal control sequences from a failure reason out of the output', () => {
    const e: AuditEvent = { ...base, eventId: '4', type: 'failed', error: 'bad\u001b[2J\nrow', worker: 'h:1', attempt: 2 };
    const out = formatTimeline([e]);
    expect(out).not.toContain('\u001b');
    expect(out.split('\n')).toHaveLength(3);
    expect(out).toContain('bad [2J row');
  });

  it('lines up when, job, attempt, who and what', () => {
    const out = formatTimeline([
      { ...base, eventId: '5', type: 'started', attempt: 1, maxAttempts: 8, worker: 'host-a:41', trigger: 'manual' },
      { ...base, eventId: '6', type: 'failed', origin: 'queue', error: 'x', final: true },
    ]);
    const [header, first, second] = out.split('\n');
    expect(header).toMatch(/^WHEN \(UTC\)\s+JOB\s+ATTEMPT\s+BY\s+EVENT\s+WHAT$/);
    expect(first).toContain('host-a:41');
    expect(first).toContain('attempt 1 of 8, trigger manual');
    expect(second).toMatch(/\s-\s+queue\s+failed\s+x \(final\)$/);
  });
});
