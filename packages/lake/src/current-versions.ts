import { MANIFEST_FILE } from './layout.js';
import { checkDate } from './names.js';
import type { Lake } from './types.js';

/** One data file of a partition's current version. */
export interface CurrentFile {
  /** Relative to the version, as in the manifest (`events-000.csv.gz`, `pages/000001.json`). */
  path: string;
  /** Where a reader finds it: `file:///…` on the folder backend, `s3://bucket/key` on an object store. */
  uri: string;
  bytes: number;
  sha256: string;
}

/** A partition as a downstream reader should see it: only its current (latest committed) version. */
export interface CurrentPartition {
  source: string;
  date: string;
  version: number;
  /** URI of the version's `_manifest.json`. */
  manifest: string;
  committedAt: string;
  records: number;
  rejected: number;
  files: CurrentFile[];
}

/**
 * The current version of every committed partition of `source` (optionally
 * from/to a date, inclusive), ascending by date, with the URI of every file:
 * what a query engine should read so a reprocessed day counts once. Goes
 * through the lake's reader only, so it works on any backend.
 */
export async function currentVersions(lake: Lake, source: string, range: { from?: string; to?: string } = {}): Promise<CurrentPartition[]> {
  const from = range.from === undefined ? undefined : checkDate(range.from, 'from');
  const to = range.to === undefined ? undefined : checkDate(range.to, 'to');
  const out: CurrentPartition[] = [];
  for (const date of await lake.listPartitions(source, { from, to })) {
    const m = await lake.readManifest(source, date);
    if (!m) continue; // listed a moment ago: only a tampered folder vanishes
    out.push({
      source,
      date,
      version: m.version,
      manifest: lake.locate(source, date, m.version, MANIFEST_FILE),
      committedAt: m.committedAt,
      records: m.records,
      rejected: m.rejected,
      files: m.files.map((f) => ({ path: f.path, uri: lake.locate(source, date, m.version, f.path), bytes: f.bytes, sha256: f.sha256 })),
    });
  }
  return out;
}
