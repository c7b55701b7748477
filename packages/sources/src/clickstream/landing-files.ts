import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, NotArrivedError, TransientError } from '@recomart/jobs';
import { fileNameProblem } from '@recomart/lake';
import { CHUNK_BYTES, type ClickstreamFile } from './file-ingest.js';

/** Landing file names the source takes: `*.csv` and `*.csv.gz`, not hidden (temp files of atomic writers start with a dot). */
const LANDING_NAME_RE = /^[^.].*\.csv(\.gz)?$/;

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

/**
 * The day's landing files, sorted by name (byte order) so every run reads
 * them in the same order.
 * @throws NotArrivedError (retried) when the folder is missing or holds no such file.
 * @throws InvalidInputError (not retried) when a file's name cannot be stored in the lake: rename it, then retry.
 * @throws TransientError when the folder cannot be read.
 */
export async function listLandingFiles(
  landingDir: string,
  date: string,
  signal: AbortSignal,
): Promise<{ files: ClickstreamFile[]; listing: LandingEntry[] }> {
  const dir = landingFolder(landingDir, date);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotArrivedError(`no clickstream files for ${date} in ${dir} yet`);
    throw new TransientError(`cannot list ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const files: ClickstreamFile[] = [];
  const listing: LandingEntry[] = [];
  for (const name of names.filter((n) => LANDING_NAME_RE.test(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const full = path.join(dir, name);
    const problem = fileNameProblem(name);
    if (problem !== undefined) {
      throw new InvalidInputError(`landing file ${path.join('clickstream', date, name)} cannot be stored in the lake under its name: ${problem}`);
    }
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) continue;
    listing.push({ name, bytes: info.size, mtime: info.mtime.toISOString() });
    files.push({
      name,
      display: path.join('clickstream', date, name),
      origin: full,
      gzip: name.endsWith('.gz'),
      expectedBytes: info.size,
      open: () => Promise.resolve(createReadStream(full, { highWaterMark: CHUNK_BYTES, signal })),
    });
  }
  if (files.length === 0) throw new NotArrivedError(`no clickstream files for ${date} in ${dir} yet`);
  return { files, listing };
}
