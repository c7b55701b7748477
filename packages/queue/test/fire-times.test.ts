import { describe, expect, it } from 'vitest';
import { addDays, partitionDateOf, TICK_DAY_OFFSET, tickDates } from '@recomart/jobs';
import { dailyScheduleProblem, nextFireTime } from '@recomart/queue';

const ZONES = Intl.supportedValuesOf('timeZone');
const PATTERNS = ['0 0 * * *', '0 2 * * *', '30 23 * * *'] as const;
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2028-01-01T00:00:00Z');
const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number) => new Date(ms).toISOString();
const DAYS = 730;
const DAY_MS = 86_400_000;

describe('nextFireTime', () => {
  it('fires on Lord Howe Island\'s fall-back day (from its eve, cron-parser throws "loop limit exceeded" and BullMQ stops the scheduler)', () => {
    // 2026-04-05 02:00 +11:00 falls back to 01:30 +10:30; 02:00 that day is +10:30 = 2026-04-04T15:30Z.
    expect(iso(nextFireTime('0 2 * * *', 'Australia/Lord_Howe', at('2026-04-03T15:00:00Z')))).toBe('2026-04-04T15:30:00.000Z');
    expect(iso(nextFireTime('0 3 * * *', 'Australia/Lord_Howe', at('2026-04-03T16:00:00Z')))).toBe('2026-04-04T16:30:00.000Z');
  });

  it('fires on Lord Howe Island\'s spring-forward day at the first instant after the skipped 02:00 (cron-parser skips the day)', () => {
    // 2026-10-04 02:00 +10:30 becomes 02:30 +11:00 = 2026-10-03T15:30Z.
    expect(iso(nextFireTime('0 2 * * *', 'Australia/Lord_Howe', at('2026-10-03T12:00:00Z')))).toBe('2026-10-03T15:30:00.000Z');
    expect(iso(nextFireTime('0 2 * * *', 'Australia/Lord_Howe', at('2026-10-03T15:30:00Z')))).toBe('2026-10-04T15:00:00.000Z');
    expect(iso(nextFireTime('0 3 * * *', 'Australia/Lord_Howe', at('2026-10-03T12:00:00Z')))).toBe('2026-10-03T16:00:00.000Z');
  });

  it('fires on Santiago\'s spring-forward day, whose midnight does not exist, at 01:00', () => {
    // Chile skips 2026-09-06 00:00-01:00 (-04:00 → -03:00): the day begins at 01:00 -03:00 = 04:00Z.
    expect(iso(nextFireTime('0 0 * * *', 'America/Santiago', at('2026-09-05T04:00:00Z')))).toBe('2026-09-06T04:00:00.000Z');
  });

  it('fires once, the first time, when the hour is repeated', () => {
    // New York 2026-11-01: 01:30 EDT (05:30Z), then 01:30 EST (06:30Z).
    const first = nextFireTime('30 1 * * *', 'America/New_York', at('2026-11-01T00:00:00Z'));
    expect(iso(first)).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(nextFireTime('30 1 * * *', 'America/New_York', first))).toBe('2026-11-02T06:30:00.000Z');
    // From inside the repeated hour, after the first 01:30 has passed: tomorrow, not the second 01:30.
    expect(iso(nextFireTime('30 1 * * *', 'America/New_York', at('2026-11-01T06:10:00Z')))).toBe('2026-11-02T06:30:00.000Z');
  });

  it('is strictly after the given instant, also mid-second', () => {
    expect(iso(nextFireTime('0 2 * * *', 'UTC', at('2026-11-25T02:00:00.000Z')))).toBe('2026-11-26T02:00:00.000Z');
    expect(iso(nextFireTime('0 2 * * *', 'UTC', at('2026-11-25T01:59:59.500Z')))).toBe('2026-11-25T02:00:00.000Z');
  });
});

describe('dailyScheduleProblem', () => {
  it('refuses a pattern that does not fire every day, naming the zone and the cron', () => {
    expect(dailyScheduleProblem('0 3 * * 1', 'Europe/Berlin', at('2026-12-01T00:00:00Z'))).toMatch(/^cron "0 3 \* \* 1" in time zone Europe\/Berlin does not fire within 48 hours after /);
    expect(dailyScheduleProblem('0 0 31 2 *', 'UTC', at('2026-12-01T00:00:00Z'))).toMatch(/^cron "0 0 31 2 \*" in time zone UTC has no next fire time/);
    expect(dailyScheduleProblem('0 2 * * *', 'Australia/Lord_Howe', at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe(`every IANA zone (${ZONES.length}) × ${PATTERNS.join(', ')} over 2026-2027`, () => {
  // Pure: the scheduler's next-fire computation chained as BullMQ chains it (each
  // next time from the previous one). No pair may stop, skip or double a local day, or
  // step over a UTC partition day that the tick after the step does not cover.
  it('every pair fires once a local day, never stops, and no UTC partition day is left without a tick', () => {
    const problems: string[] = [];
    let steppedOver = 0;
    for (const zone of ZONES) {
      for (const pattern of PATTERNS) {
        let prev = FROM - 1;
        let fires = 0;
        try {
          for (let t = nextFireTime(pattern, zone, FROM - 1); t < TO; t = nextFireTime(pattern, zone, t)) {
            fires++;
            if (t - prev > 48 * 3_600_000) problems.push(`${zone} "${pattern}": no tick between ${iso(prev)} and ${iso(t)}`);
            const step = Math.floor(t / DAY_MS) - Math.floor(prev / DAY_MS);
            if (fires > 1 && step > 1) {
              // The partition day in between has no tick of its own: this tick must cover it.
              steppedOver++;
              const skipped = partitionDateOf(t - DAY_MS, 'UTC');
              for (const source of ['clickstream', 'products'] as const) {
                const wanted = addDays(skipped, TICK_DAY_OFFSET[source]);
                if (step > 2 || !tickDates(source, t, 'UTC').includes(wanted)) problems.push(`${zone} "${pattern}": ${source} ${wanted} has no tick (fires ${iso(prev)}, ${iso(t)})`);
              }
            }
            prev = t;
          }
        } catch (err) {
          problems.push(`${zone} "${pattern}": stopped after ${iso(prev)}: ${(err as Error).message}`);
          continue;
        }
        // One tick per local day: none skipped, none doubled (a 23:30 that does not exist fires at 00:30 the next day).
        if (fires !== DAYS) problems.push(`${zone} "${pattern}": ${fires} ticks in ${DAYS} days`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
    // The sweep does meet zones whose ticks step over a UTC day (Europe/London at 00:00 in October).
    expect(steppedOver).toBeGreaterThan(0);
  }, 120_000);
});
