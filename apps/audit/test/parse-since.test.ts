import { UsageError } from '@recomart/command';
import { InvalidInputError } from '@recomart/jobs';
import { describe, expect, it } from 'vitest';
import { parseSince } from '../src/audit-query-command.js';

describe('--since', () => {
  it('takes a date (midnight UTC) or an ISO-8601 time with its offset', () => {
    expect(parseSince('2026-11-20')).toBe(Date.parse('2026-11-20T00:00:00Z'));
    expect(parseSince('2026-11-20T06:30:00Z')).toBe(Date.parse('2026-11-20T06:30:00Z'));
    expect(parseSince('2026-11-20T06:30:00.250+02:00')).toBe(Date.parse('2026-11-20T04:30:00.250Z'));
  });

  it('refuses anything else with the exact reason', () => {
    expect(() => parseSince('yesterday')).toThrow(new UsageError('--since must be YYYY-MM-DD or an ISO-8601 time such as 2026-11-20T06:00:00Z, got "yesterday"'));
    expect(() => parseSince('2026-11-20T06:30:00')).toThrow(UsageError);
    expect(() => parseSince('2026-02-30')).toThrow(new InvalidInputError('--since must be a calendar date as YYYY-MM-DD, got "2026-02-30"'));
  });
});
