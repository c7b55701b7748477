import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../src/stream-entry.js';
import { workerEventFromEntry } from '../src/worker-event.js';

const entry = (event: string | undefined): StreamEntry => ({
  stream: 'p:audit:events',
  id: '1795000000000-0',
  fields: event === undefined ? {} : { event },
});

describe('workerEventFromEntry', () => {
  it('keeps the id the emitter gave the event', () => {
    const e = workerEventFromEntry(entry(JSON.stringify({ eventId: 'u-1', type: 'committed', at: '2026-11-21T02:00:00.000Z', version: 2 })));
    expect(e).toEqual({ eventId: 'u-1', type: 'committed', at: '2026-11-21T02:00:00.000Z', version: 2 });
  });

  it('derives the id from the stream and entry when the event has none', () => {
    const e = workerEventFromEntry(entry(JSON.stringify({ type: 'started', at: '2026-11-21T02:00:00.000Z' })));
    expect(e).toMatchObject({ eventId: 'p:audit:events-1795000000000-0' });
  });

  it('reports entries that are not audit events', () => {
    expect(workerEventFromEntry(entry(undefined))).toEqual({ unreadable: 'no "event" field' });
    expect(workerEventFromEntry(entry('{oops'))).toEqual({ unreadable: 'the event is not JSON' });
    expect(workerEventFromEntry(entry(JSON.stringify({ type: 'exploded', at: 'x' })))).toHaveProperty('unreadable');
  });
});
