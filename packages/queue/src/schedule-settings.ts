import { ConfigError, type Config } from '@recomart/config';
import { SCHEDULE_QUEUE, SOURCES, type SourceName } from '@recomart/jobs';
import type { Redis } from 'ioredis';

/**
 * The settings every scheduler replica must agree on. They are stored in Redis
 * with the job schedulers; ticks compute their dates from the stored copy,
 * never from the environment of the process that happens to take the tick.
 */
export interface ScheduleSettings {
  cron: Record<SourceName, string>;
  /** SCHEDULE_TZ: when ticks fire. */
  tz: string;
  /** PARTITION_TZ: which calendar day a date is. */
  partitionTz: string;
  catchUpDays: number;
}

/** Thrown when no schedule settings are stored yet (`recomart schedule` has not run under this prefix). Retryable: a tick waits for it. */
export class ScheduleSettingsMissingError extends Error {
  override readonly name = 'ScheduleSettingsMissingError';
  readonly retryable = true;
}

/** The Redis key holding the stored settings (JSON). */
export function scheduleSettingsKey(prefix: string): string {
  return `${prefix}:${SCHEDULE_QUEUE}:settings`;
}

export function settingsFromConfig(config: Config): ScheduleSettings {
  return {
    cron: { ...config.schedule.cron },
    tz: config.schedule.tz,
    partitionTz: config.schedule.partitionTz,
    catchUpDays: config.schedule.catchUpDays,
  };
}

function isSettings(value: unknown): value is ScheduleSettings {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const cron = v.cron as Record<string, unknown> | undefined;
  return (
    typeof v.tz === 'string' &&
    typeof v.partitionTz === 'string' &&
    typeof v.catchUpDays === 'number' &&
    !!cron &&
    SOURCES.every((s) => typeof cron[s] === 'string')
  );
}

/** The stored settings, or undefined when none (or unreadable ones) are stored. */
export async function readScheduleSettings(conn: Redis, prefix: string): Promise<ScheduleSettings | undefined> {
  const raw = await conn.get(scheduleSettingsKey(prefix));
  if (raw === null) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    return isSettings(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Like `readScheduleSettings`, for a tick: throws ScheduleSettingsMissingError when none are stored. */
export async function requireScheduleSettings(conn: Redis, prefix: string): Promise<ScheduleSettings> {
  const settings = await readScheduleSettings(conn, prefix);
  if (!settings) throw new ScheduleSettingsMissingError(`no schedule settings stored under ${scheduleSettingsKey(prefix)}: run "recomart schedule"`);
  return settings;
}

export async function writeScheduleSettings(conn: Redis, prefix: string, settings: ScheduleSettings): Promise<void> {
  await conn.set(scheduleSettingsKey(prefix), JSON.stringify(settings));
}

/**
 * Each setting where `local` differs from `stored`, as `NAME is "here" here but "there" in Redis`.
 * Empty when they agree.
 */
export function settingsDifferences(stored: ScheduleSettings, local: ScheduleSettings): string[] {
  const out: string[] = [];
  const diff = (name: string, here: string | number, there: string | number) => {
    if (here !== there) out.push(`${name} is ${JSON.stringify(here)} here but ${JSON.stringify(there)} in Redis`);
  };
  for (const s of SOURCES) diff(`SCHEDULE_CRON_${s.toUpperCase()}`, local.cron[s], stored.cron[s]);
  diff('SCHEDULE_TZ', local.tz, stored.tz);
  diff('PARTITION_TZ', local.partitionTz, stored.partitionTz);
  diff('CATCH_UP_DAYS', local.catchUpDays, stored.catchUpDays);
  return out;
}

/**
 * Refuses (ConfigError, exit 2) a process whose PARTITION_TZ differs from the
 * stored schedule settings: a worker judges which rows belong to a partition's
 * day with it, so every process must use the one the schedule stored.
 */
export async function checkPartitionZone(conn: Redis, config: Config): Promise<void> {
  const stored = await readScheduleSettings(conn, config.queuePrefix);
  if (stored && stored.partitionTz !== config.schedule.partitionTz) {
    throw new ConfigError([
      `PARTITION_TZ is ${JSON.stringify(config.schedule.partitionTz)} here but ${JSON.stringify(stored.partitionTz)} in the stored schedule settings: every process must use one partition day (set PARTITION_TZ=${stored.partitionTz}, or change it for all with "recomart schedule --replace")`,
    ]);
  }
}
