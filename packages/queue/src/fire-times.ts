import { instantOfWallClock, wallClockOf } from '@recomart/jobs';
import { CronExpressionParser, type CronExpression } from 'cron-parser';

/** Thrown when a cron pattern has no next fire time in a zone (a pattern that never matches). Not retryable: fix the pattern. */
export class NoFireTimeError extends Error {
  override readonly name = 'NoFireTimeError';
  readonly retryable = false;
}

/** The longest a daily schedule may go without a tick; `schedule` refuses a zone/cron pair that would. */
export const MAX_TICK_GAP_MS = 48 * 3_600_000;

/** How far ahead `checkDailySchedule` looks: two years, so every daylight-saving change of every zone comes up. */
export const CHECK_HORIZON_MS = 731 * 86_400_000;

const expressions = new Map<string, CronExpression>();
/** Next wall-clock match per (pattern, wall-clock time): the same for every zone and every replica. */
const nextWalls = new Map<string, number>();
const MEMO_LIMIT = 50_000;

/** The first wall-clock time strictly after `wall` that matches the pattern, read in UTC (no daylight saving). */
function nextWallClock(pattern: string, wall: number): number {
  const key = `${pattern}\u0000${wall}`;
  const known = nextWalls.get(key);
  if (known !== undefined) return known;
  let expr = expressions.get(pattern);
  if (!expr) {
    expr = CronExpressionParser.parse(pattern, { tz: 'UTC', currentDate: new Date(wall) });
    expressions.set(pattern, expr);
  }
  let next: number;
  try {
    expr.reset(new Date(wall));
    next = expr.next().getTime();
  } catch (err) {
    throw new NoFireTimeError(`cron "${pattern}" has no fire time after ${new Date(wall).toISOString().slice(0, 16)} (${(err as Error).message})`);
  }
  if (nextWalls.size >= MEMO_LIMIT) nextWalls.clear();
  nextWalls.set(key, next);
  return next;
}

/**
 * The next time a cron pattern fires in a zone, strictly after `afterMs`.
 *
 * The pattern is matched against the zone's wall clock, and the wall-clock
 * time then placed in the zone: a time the clock skips (daylight saving
 * starts) fires at the first instant after the skip, a time the clock passes
 * twice fires once, the first time. So a daily pattern fires on every
 * calendar day of the zone, including the days it changes its offset (where
 * cron-parser's own zone handling either skips the day or throws "loop limit
 * exceeded", and BullMQ then stops the scheduler for good).
 *
 * @throws NoFireTimeError when the pattern never matches (or cannot be parsed).
 */
export function nextFireTime(pattern: string, timeZone: string, afterMs: number): number {
  let wall = wallClockOf(afterMs, timeZone);
  for (let i = 0; i < 4; i++) {
    wall = nextWallClock(pattern, wall);
    const at = instantOfWallClock(wall, timeZone);
    // A match in the repeated hour can name an instant already passed: take the next match.
    if (at > afterMs) return at;
  }
  throw new NoFireTimeError(`cron "${pattern}" in ${timeZone} has no fire time after ${new Date(afterMs).toISOString()}`);
}

/**
 * Why a pattern cannot drive a daily schedule in a zone (one line naming both),
 * or undefined when, from `fromMs` over the next two years, it always fires
 * again within MAX_TICK_GAP_MS.
 */
export function dailyScheduleProblem(pattern: string, timeZone: string, fromMs: number, horizonMs = CHECK_HORIZON_MS): string | undefined {
  let at = fromMs;
  try {
    while (at < fromMs + horizonMs) {
      const next = nextFireTime(pattern, timeZone, at);
      if (next - at > MAX_TICK_GAP_MS) {
        return `cron "${pattern}" in time zone ${timeZone} does not fire within 48 hours after ${new Date(at).toISOString()} (next ${new Date(next).toISOString()}): a daily schedule must fire every day`;
      }
      at = next;
    }
  } catch (err) {
    return `cron "${pattern}" in time zone ${timeZone} has no next fire time after ${new Date(at).toISOString()} (${(err as Error).message})`;
  }
  return undefined;
}

/** BullMQ's `settings.repeatStrategy` for the tick queue and the scheduler worker: `nextFireTime` on the scheduler's own pattern and zone. */
export function tickRepeatStrategy(millis: number, opts: { pattern?: string | undefined; tz?: string | undefined }): number | undefined {
  if (!opts.pattern) return undefined;
  return nextFireTime(opts.pattern, opts.tz ?? 'UTC', millis);
}
