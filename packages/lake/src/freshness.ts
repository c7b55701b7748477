import { addDays, logicalDateForTick, partitionDay, type SourceName } from '@recomart/jobs';
import type { Lake } from './types.js';

/** How current a source's data in the lake is, and which recent days are missing. */
export interface SourceFreshness {
  source: SourceName;
  /** The newest logical date with a committed version, or null when there is none. */
  newestDate: string | null;
  newestVersion: number | null;
  newestCommittedAt: string | null;
  /** Seconds from that version's commit to `now`. */
  newestCommitAgeSeconds: number | null;
  /**
   * The first instant of `newestDate` as a partition day (PARTITION_TZ;
   * midnight UTC by default), in Unix seconds: the value of
   * `recomart_lake_newest_partition_timestamp_seconds`.
   */
  newestPartitionTimestampSeconds: number | null;
  /** The last `days` logical dates up to the one a tick at `now` ingests (clickstream: yesterday, products: today); null when `days` is 0. */
  window: { from: string; to: string } | null;
  /** Dates of the window with no committed version, ascending. */
  missing: string[];
}

/**
 * The freshness of one source at `now`: the newest committed partition and the
 * age of its commit, and the dates missing among the last `days` logical
 * dates (`CATCH_UP_DAYS`, the same window catch-up fills). Reads only the
 * window's partitions unless the window is empty.
 */
/** @param options.timeZone PARTITION_TZ: whose calendar days the partitions are */
export async function sourceFreshness(lake: Lake, source: SourceName, options: { now: Date; timeZone: string; days: number }): Promise<SourceFreshness> {
  const { now, timeZone, days } = options;
  const to = logicalDateForTick(source, now.getTime(), timeZone);
  const window = days > 0 ? { from: addDays(to, -(days - 1)), to } : null;
  let dates = window ? await lake.listPartitions(source, { from: window.from }) : [];
  const present = new Set(dates);
  if (dates.length === 0) dates = await lake.listPartitions(source);
  const missing: string[] = [];
  if (window) for (let d = window.from; d <= window.to; d = addDays(d, 1)) if (!present.has(d)) missing.push(d);
  const newestDate = dates[dates.length - 1];
  const m = newestDate === undefined ? undefined : await lake.readManifest(source, newestDate);
  if (newestDate === undefined || m === undefined) {
    return { source, newestDate: null, newestVersion: null, newestCommittedAt: null, newestCommitAgeSeconds: null, newestPartitionTimestampSeconds: null, window, missing };
  }
  return {
    source,
    newestDate,
    newestVersion: m.version,
    newestCommittedAt: m.committedAt,
    newestCommitAgeSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(m.committedAt)) / 1000)),
    newestPartitionTimestampSeconds: partitionDay(newestDate, timeZone).start / 1000,
    window,
    missing,
  };
}

/** `sourceFreshness` of each of `sources`, in that order. */
export function lakeFreshness(lake: Lake, sources: readonly SourceName[], options: { now: Date; timeZone: string; days: number }): Promise<SourceFreshness[]> {
  return Promise.all(sources.map((source) => sourceFreshness(lake, source, options)));
}
