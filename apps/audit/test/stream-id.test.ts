import { describe, expect, it } from 'vitest';
import { compareStreamIds, isStreamId, streamIdTime } from '../src/stream-id.js';

describe('stream ids', () => {
  it('orders by time, then by sequence, as numbers rather than text', () => {
    expect(compareStreamIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareStreamIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareStreamIds('10-10', '10-10')).toBe(0);
    expect(compareStreamIds('1795000000001-0', '1795000000000-99')).toBeGreaterThan(0);
  });

  it('knows a complete id and reads its time', () => {
    expect(isStreamId('1-0')).toBe(true);
    expect(isStreamId('1')).toBe(false);
    expect(isStreamId('$')).toBe(false);
    expect(streamIdTime('1795000000000-5')).toBe('2026-11-18T11:06:40.000Z');
  });
});
