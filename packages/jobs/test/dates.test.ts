import { describe, expect, it } from 'vitest';
import { addDays, InvalidInputError, instantOfWallClock, parseLogicalDate, partitionDay, partitionDateOf, tickDates, utcOffsetMs } from '@recomart/jobs';

const iso = (ms: number) => new Date(ms).toISOString();

describe('logical dates', () => {
  it('names the 1970..9999 rule for a real date outside it, and the calendar rule for a non-date', () => {
    expect(() => parseLogicalDate('1969-12-31', '--date')).toThrow('--date must be from 1970-01-01 to 9999-12-31, got "1969-12-31"');
    expect(() => parseLogicalDate('0001-01-01', '--date')).toThrow('--date must be from 1970-01-01 to 9999-12-31, got "0001-01-01"');
    expect(() => parseLogicalDate('2024-02-30', '--from')).toThrow('--from must be a calendar date as YYYY-MM-DD, got "2024-02-30"');
    expect(() => parseLogicalDate('1900-02-29', '--date')).toThrow('--date must be a calendar date as YYYY-MM-DD, got "1900-02-29"');
    expect(parseLogicalDate('1970-01-01')).toBe('1970-01-01');
  });

  it('addDays refuses to leave 1970-01-01..9999-12-31 instead of writing "+010000-01"', () => {
    expect(addDays('9999-12-30', 1)).toBe('9999-12-31');
    expect(() => addDays('9999-12-31', 1)).toThrow(InvalidInputError);
    expect(() => addDays('9999-12-31', 1)).toThrow('9999-12-31 + 1 day(s) is outside 1970-01-01..9999-12-31');
    expect(() => addDays('1970-01-01', -1)).toThrow('1970-01-01 - 1 day(s) is outside 1970-01-01..9999-12-31');
  });
});

describe('zoned time and the partition day', () => {
  it('reads offsets, including half-hour daylight saving', () => {
    expect(utcOffsetMs(Date.parse('2026-07-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(10.5 * 3_600_000);
    expect(utcOffsetMs(Date.parse('2026-12-01T00:00:00Z'), 'Australia/Lord_Howe')).toBe(11 * 3_600_000);
    // The change itself: 2026-10-04 02:00 +10:30 = 2026-10-03T15:30Z.
    expect(utcOffsetMs(Date.parse('2026-10-03T15:29:59Z'), 'Australia/Lord_Howe')).toBe(10.5 * 3_600_000);
    expect(utcOffsetMs(Date.parse('2026-10-03T15:30:00Z'), 'Australia/Lord_Howe')).toBe(11 * 3_600_000);
  });

  it('places a skipped wall-clock time after the gap and a repeated one at its first pass', () => {
    expect(iso(instantOfWallClock(Date.UTC(2026, 2, 8, 2, 30), 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z');
    expect(iso(instantOfWallClock(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
  });

  it('is a calendar day in PARTITION_TZ: 24 hours in UTC, 23 on a spring-forward day, beginning after a skipped midnight', () => {
    expect(partitionDay('2026-11-25', 'UTC')).toEqual({ date: '2026-11-25', timeZone: 'UTC', start: Date.parse('2026-11-25T00:00:00Z'), end: Date.parse('2026-11-26T00:00:00Z') });
    const tokyo = partitionDay('2026-11-25', 'Asia/Tokyo');
    expect([iso(tokyo.start), iso(tokyo.end)]).toEqual(['2026-11-24T15:00:00.000Z', '2026-11-25T15:00:00.000Z']);
    const santiago = partitionDay('2026-09-06', 'America/Santiago');
    expect([iso(santiago.start), (santiago.end - santiago.start) / 3_600_000]).toEqual(['2026-09-06T04:00:00.000Z', 23]);
    expect(partitionDateOf(Date.parse('2026-11-25T23:30:00Z'), 'UTC')).toBe('2026-11-25');
    expect(partitionDateOf(Date.parse('2026-11-25T23:30:00Z'), 'Asia/Tokyo')).toBe('2026-11-26');
  });

  it('a tick covers its date and the day before, in the partition zone whatever zone fired it', () => {
    // 02:00 Tokyo on 11-26 is 17:00Z on 11-25: in UTC partitions, 11-24 is the last ended day.
    expect(tickDates('clickstream', Date.parse('2026-11-25T17:00:00Z'), 'UTC')).toEqual(['2026-11-23', '2026-11-24']);
    expect(tickDates('products', Date.parse('2026-11-25T17:00:00Z'), 'UTC')).toEqual(['2026-11-24', '2026-11-25']);
    expect(tickDates('products', Date.parse('2026-11-25T17:00:00Z'), 'Asia/Tokyo')).toEqual(['2026-11-25', '2026-11-26']);
  });
});
