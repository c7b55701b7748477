import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, NotArrivedError, TransientError } from '@recomart/jobs';
import { CHUNK_BYTES, type ClickstreamFile } from './file-ingest.js';
import { LandingFileReader } from './landing-file-reader.js';
import { judgeLanding, type LandingEntryKind, type LandingListingEntry, type LandingRules } from './landing-rules.js';
import { showName } from './shown-name.js';

/** What the landing folder held when the run started, for the manifest's provenance. */
export interface LandingEntry {
  name: string;
  bytes: number;
  mtime: string;
}

/** `$LANDING_DIR/clickstream/<date>` */
export function landingFolder(landingDir: string, date: string): string {
  return path.join(landingDir, 'clickstream', date);
}

function kindOf(st: Stats): LandingEntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'device';
  return 'other';
}

/** lstat, or undefined when the path is not there. */
async function lstatIfAny(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The folders under LANDING_DIR leading to the day must be real folders: a link there would lead reads out of the landing zone. */
async function checkFolders(landingDir: string, date: string): Promise<boolean> {
  for (const dir of [path.join(landingDir, 'clickstream'), landingFolder(landingDir, date)]) {
    const st = await lstatIfAny(dir);
    if (st === undefined) return false;
    if (st.isSymbolicLink()) throw new InvalidInputError(`landing folder ${dir} is a symbolic link, not followed: make it a real folder, then retry`);
    if (!st.isDirectory()) return false;
  }
  return true;
}

/**
 * The day's landing files, as `judgeLanding` decides over what the folder
 * holds (lstat: links are listed, never followed). Each file is opened
 * without following links and checked against its listing while read (see
 * `LandingFileReader`).
 *
 * @throws NotArrivedError (retried) when the folder is missing or holds no data file yet, or the export looks unfinished (see `judgeLanding`).
 * @throws InvalidInputError (not retried) when the folder holds anything the source cannot take, naming it.
 * @throws TransientError when the folder cannot be read.
 */
export async function listLandingFiles(
  landingDir: string,
  date: string,
  rules: LandingRules,
  signal: AbortSignal,
): Promise<{ files: ClickstreamFile[]; listing: LandingEntry[]; complete: boolean }> {
  const dir = landingFolder(landingDir, date);
  const notYet = () => new NotArrivedError(`no clickstream files for ${date} in ${dir} yet`);
  const where = path.join('clickstream', date);
  const entries: Array<LandingListingEntry & { st: Stats }> = [];
  let listedAt: number;
  try {
    if (!(await checkFolders(landingDir, date))) throw notYet();
    listedAt = Date.now();
    for (const name of await readdir(dir)) {
      // Hidden names (temporary files of atomic writers) come and go: they are not looked at.
      if (name.startsWith('.')) continue;
      const st = await lstatIfAny(path.join(dir, name));
      if (st === undefined) throw new TransientError(`${where} changed while it was listed: ${showName(name)} vanished`);
      entries.push({ name, kind: kindOf(st), size: st.size, mtimeMs: st.mtimeMs, st });
    }
  } catch (err) {
    if (err instanceof NotArrivedError || err instanceof InvalidInputError || err instanceof TransientError) throw err;
    throw new TransientError(`cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }

  const verdict = judgeLanding(entries, rules, listedAt, where);
  if (verdict.kind === 'empty') throw notYet();
  if (verdict.kind === 'wait') throw new NotArrivedError(verdict.reason, verdict.retryAfterMs === undefined ? undefined : { retryAfterMs: verdict.retryAfterMs });
  if (verdict.kind === 'refuse') throw new InvalidInputError(verdict.reason);

  const stats = new Map(entries.map((e) => [e.name, e.st]));
  const files: ClickstreamFile[] = verdict.files.map((f) => {
    const st = stats.get(f.name) as Stats;
    const display = path.join(where, f.name);
    const listed = { path: path.join(dir, f.name), display, size: f.size, mtimeMs: f.mtimeMs, dev: st.dev, ino: st.ino, gzip: f.gzip, complete: verdict.complete };
    return {
      name: f.name,
      display,
      origin: listed.path,
      gzip: f.gzip,
      expectedBytes: f.size,
      open: () => LandingFileReader.open(listed, CHUNK_BYTES, signal),
    };
  });
  const listing = verdict.files.map((f) => ({ name: f.name, bytes: f.size, mtime: new Date(f.mtimeMs).toISOString() }));
  return { files, listing, complete: verdict.complete };
}

