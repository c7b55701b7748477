import { fileNameProblem } from '@recomart/lake';
import { showName } from './shown-name.js';

/**
 * What one entry of a day's landing listing is. A folder listing has every
 * kind; an object listing (a bucket) has files and, for common prefixes, directories.
 */
export type LandingEntryKind = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other';

/** One entry of a day's landing listing, as the listing saw it (never following links). */
export interface LandingListingEntry {
  readonly name: string;
  readonly kind: LandingEntryKind;
  readonly size: number;
  /** Last modification, in milliseconds since the epoch. */
  readonly mtimeMs: number;
}

/** The exporter's "this day is complete" marker, written after every file of the day. */
export const MARKER_NAME = '_SUCCESS';

/** Data files: `*.csv` and `*.csv.gz`, in any case. */
const DATA_NAME_RE = /\.csv(\.gz)?$/i;

/** Refused entries a message lists by name (the rest are counted). */
const LISTED_REFUSALS = 5;

export interface LandingRules {
  /** `CLICKSTREAM_REQUIRE_MARKER`: take a day only with its marker. */
  readonly requireMarker: boolean;
  /** `CLICKSTREAM_SETTLE_MS`: without a marker, a file modified this recently may still be being written (0: off). */
  readonly settleMs: number;
}

/** A data file the day is made of. */
export interface TakenEntry extends LandingListingEntry {
  /** Whether its bytes are gzip (the name ends in `.gz`, any case). */
  readonly gzip: boolean;
}

/** What to do with a day's listing. */
export type LandingVerdict =
  /** Ingest these files, in this order; `complete`: the marker vouches for them (a last line without a newline is whole). */
  | { readonly kind: 'take'; readonly files: TakenEntry[]; readonly complete: boolean }
  /** Nothing to ingest yet. */
  | { readonly kind: 'empty' }
  /** Not yet: the export looks unfinished (retry later, after `retryAfterMs` when set). */
  | { readonly kind: 'wait'; readonly reason: string; readonly retryAfterMs?: number }
  /** Never as it is: entries the source cannot take (an operator must move or rename them). */
  | { readonly kind: 'refuse'; readonly reason: string };

const KIND_PROBLEM: Record<Exclude<LandingEntryKind, 'file'>, string> = {
  directory: 'a directory',
  symlink: 'a symbolic link, not followed',
  fifo: 'a FIFO',
  socket: 'a socket',
  device: 'a device',
  other: 'not a regular file',
};

/** Why an entry cannot be ingested, or undefined when it is a data file. */
function refusal(entry: LandingListingEntry): string | undefined {
  if (entry.kind !== 'file') return KIND_PROBLEM[entry.kind];
  if (entry.name === MARKER_NAME) return undefined;
  if (!DATA_NAME_RE.test(entry.name)) return 'not named *.csv or *.csv.gz';
  // The lake's own reason quotes the name unescaped; the name is shown once, escaped, by the caller.
  if (fileNameProblem(entry.name) !== undefined) return 'a name the lake cannot store: letters, digits and ._-=+@, only, at most 255 bytes';
  return undefined;
}

function byteOrder(a: LandingListingEntry, b: LandingListingEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The landing rules of one day, over a listing (a folder's entries, or a
 * bucket's objects), so every landing zone decides alike:
 *
 * - hidden names (a leading dot: the temporary files of atomic writers, such
 *   as `.events-000.csv.1234.tmp`) are ignored;
 * - `*.csv` and `*.csv.gz` regular files (extensions in any case) are the data;
 * - `_SUCCESS` (a regular file) marks the day complete;
 * - anything else (other names, directories, symbolic links, FIFOs, sockets,
 *   devices, names the lake cannot store) refuses the day for good, naming them;
 * - with `requireMarker`, no marker means the export is not done (wait);
 * - with a marker, a data file modified after it means the export runs again (wait);
 * - without a marker, a data file modified less than `settleMs` before
 *   `listedAt` may still be being written (wait until it has been quiet that long).
 *
 * @param where how messages name the day's folder, e.g. `clickstream/2024-05-01`
 */
export function judgeLanding(entries: readonly LandingListingEntry[], rules: LandingRules, listedAt: number, where: string): LandingVerdict {
  const visible = entries.filter((e) => !e.name.startsWith('.')).sort(byteOrder);
  const refused: string[] = [];
  const data: TakenEntry[] = [];
  let marker: LandingListingEntry | undefined;
  for (const entry of visible) {
    const problem = refusal(entry);
    if (problem !== undefined) refused.push(`${showName(entry.name)} (${problem})`);
    else if (entry.name === MARKER_NAME) marker = entry;
    else data.push({ ...entry, gzip: entry.name.toLowerCase().endsWith('.gz') });
  }

  if (rules.requireMarker && marker === undefined) {
    if (data.length === 0 && refused.length === 0) return { kind: 'empty' };
    return { kind: 'wait', reason: `${where} has no ${MARKER_NAME} marker yet (CLICKSTREAM_REQUIRE_MARKER): the export is not complete` };
  }
  if (refused.length > 0) {
    const more = refused.length > LISTED_REFUSALS ? `, and ${refused.length - LISTED_REFUSALS} more` : '';
    return {
      kind: 'refuse',
      reason: `${where}: ${refused.length} landing ${refused.length === 1 ? 'entry' : 'entries'} cannot be ingested; move or rename, then retry: ${refused.slice(0, LISTED_REFUSALS).join(', ')}${more}`,
    };
  }
  if (data.length === 0) return { kind: 'empty' };

  if (marker !== undefined) {
    const newer = data.filter((f) => f.mtimeMs > marker.mtimeMs);
    if (newer.length > 0) {
      return { kind: 'wait', reason: `${where}/${showName(newer[0]!.name, { quoted: false })} was modified after ${MARKER_NAME}: is the export running again?` };
    }
    return { kind: 'take', files: data, complete: true };
  }

  if (rules.settleMs > 0) {
    const fresh = data.filter((f) => listedAt - f.mtimeMs < rules.settleMs);
    if (fresh.length > 0) {
      const newest = fresh.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
      const age = listedAt - newest.mtimeMs;
      const others = fresh.length > 1 ? ` (and ${fresh.length - 1} more)` : '';
      return {
        kind: 'wait',
        reason: `${where}/${showName(newest.name, { quoted: false })}${others} was modified ${seconds(Math.max(0, age))} before the listing, within CLICKSTREAM_SETTLE_MS ${rules.settleMs}: still being written?`,
        // Back when the newest file has been quiet for the settle time (a clock ahead of ours: one settle time).
        retryAfterMs: Math.min(rules.settleMs, Math.max(1, rules.settleMs - age)),
      };
    }
  }
  return { kind: 'take', files: data, complete: false };
}
