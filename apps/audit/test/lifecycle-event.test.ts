import { describe, expect, it } from 'vitest';
import { lifecycleEventFromEntry } from '../src/lifecycle-event.js';
import type { StreamEntry } from '../src/stream-entry.js';

const stream = 'p:ingest-clickstream:events';
const entry = (id: string, fields: Record<string, string>): StreamEntry => ({ stream, id, fields });

describe('lifecycleEventFromEntry', () => {
  it('turns a final failure into a failed event with the reason, time and date taken from the entry', () => {
    const e = lifecycleEventFromEntry(
      entry('1795000000000-2', { event: 'failed', jobId: 'clickstream__2026-11-20', failedReason: 'header mismatch', prev: 'active' }),
      'clickstream',
    );
    expect(e).toEqual({
      eventId: 'p:ingest-clickstream:events-1795000000000-2',
      type: 'failed',
      at: new Date(1795000000000).toISOString(),
      jobId: 'clickstream__2026-11-20',
      source: 'clickstream',
      date: '2026-11-20',
      origin: 'queue',
      lifecycle: 'failed',
      error: 'header mismatch',
      final: true,
    });
  });

  it('gives the same event id every time the same entry is read', () => {
    const fields = { event: 'active', jobId: 'clickstream__2026-11-20', prev: 'waiting' };
    const a = lifecycleEventFromEntry(entry('1795000000000-0', fields), 'clickstream');
    const b = lifecycleEventFromEntry(entry('1795000000000-0', fields), 'clickstream');
    expect(a?.eventId).toBe(b?.eventId);
    expect(a?.type).toBe('started');
  });

  it('keeps the return value of a completed job', () => {
    const e = lifecycleEventFromEntry(
      entry('1-0', { event: 'completed', jobId: 'clickstream__2026-11-20__rabc', returnvalue: '{"status":"committed","version":3}' }),
      'clickstream',
    );
    expect(e).toMatchObject({ type: 'completed', date: '2026-11-20', result: { status: 'committed', version: 3 } });
  });

  it('records a job retried by hand (waiting after failed) and skips routine moves', () => {
    expect(lifecycleEventFromEntry(entry('1-0', { event: 'waiting', jobId: 'j', prev: 'failed' }), 'clickstream')).toMatchObject({
      type: 'enqueued',
      retriedFrom: 'failed',
    });
    expect(lifecycleEventFromEntry(entry('1-0', { event: 'waiting', jobId: 'j', prev: 'active' }), 'clickstream')).toBeNull();
    expect(lifecycleEventFromEntry(entry('1-0', { event: 'progress', jobId: 'j', data: '{}' }), 'clickstream')).toBeNull();
    expect(lifecycleEventFromEntry(entry('1-0', { event: 'drained' }), 'clickstream')).toBeNull();
  });

  it('leaves the date out when the job id does not name one', () => {
    const e = lifecycleEventFromEntry(entry('1-0', { event: 'added', jobId: 'repeat:abc', name: 'tick' }), 'clickstream');
    expect(e).toMatchObject({ type: 'enqueued', name: 'tick' });
    expect(e).not.toHaveProperty('date');
  });
});
