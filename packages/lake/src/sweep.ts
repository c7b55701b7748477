import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { lstat } from 'node:fs/promises';
import { InvalidInputError } from '@recomart/jobs';
import type { LakeFileSystem } from './file-system.js';
import { errorCode } from './lake-errors.js';
import { listDir } from './partition-reader.js';
import type { SweepReport } from './types.js';

/** Name prefix of a staging folder a sweep is removing. */
const TOMBSTONE_PREFIX = '~swept-';

/** The newest modification time (ms) anywhere in a tree, or undefined when it vanished. */
async function newestMtime(p: string): Promise<number | undefined> {
  let st;
  try {
    st = await lstat(p);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const entry of await listDir(p)) {
      const t = await newestMtime(path.join(p, entry.name));
      if (t !== undefined && t > newest) newest = t;
    }
  }
  return newest;
}

/**
 * Checks a sweep's age limit.
 * @throws InvalidInputError `sweep max age must be a whole number of milliseconds from 0, got -1`
 */
export function checkSweepAge(maxAgeMs: unknown): number {
  if (typeof maxAgeMs !== 'number' || !Number.isSafeInteger(maxAgeMs) || maxAgeMs < 0) {
    throw new InvalidInputError(`sweep max age must be a whole number of milliseconds from 0, got ${JSON.stringify(maxAgeMs) ?? String(maxAgeMs)}`);
  }
  return maxAgeMs;
}

/**
 * Removes staging leftovers (of crashed or killed writers) whose newest file
 * is older than `maxAgeMs`. Only ever looks inside `raw/.staging/`, so it
 * never touches a committed version; skips the live sessions of this process.
 */
export async function sweepStaging(options: {
  stagingRoot: string;
  maxAgeMs: number;
  now: () => Date;
  fs: LakeFileSystem;
  live: ReadonlySet<string>;
}): Promise<SweepReport> {
  const maxAgeMs = checkSweepAge(options.maxAgeMs);
  const now = options.now().getTime();
  const removed: string[] = [];
  let kept = 0;
  for (const entry of await listDir(options.stagingRoot)) {
    const full = path.join(options.stagingRoot, entry.name);
    if (options.live.has(full)) {
      kept += 1;
      continue;
    }
    if (entry.name.startsWith(TOMBSTONE_PREFIX)) {
      // Left by a sweep that died while removing it.
      await options.fs.remove(full);
      removed.push(full);
      continue;
    }
    const newest = await newestMtime(full);
    if (newest === undefined) continue;
    if (now - newest <= maxAgeMs) {
      kept += 1;
      continue;
    }
    // Take it away from its (stale) writer atomically first: if the writer publishes at this
    // very moment, one of the two renames fails and nothing is removed from a published version.
    const tombstone = path.join(options.stagingRoot, `${TOMBSTONE_PREFIX}${entry.name}-${randomBytes(4).toString('hex')}`);
    try {
      await options.fs.rename(full, tombstone);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') continue;
      throw err;
    }
    await options.fs.remove(tombstone);
    removed.push(full);
  }
  return { removed: removed.sort(), kept };
}
