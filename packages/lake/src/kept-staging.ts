import { createHash } from 'node:crypto';
import path from 'node:path';
import { lstat, readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LakeFileSystem } from './file-system.js';
import { errorCode } from './lake-errors.js';
import { versionFilePath } from './layout.js';
import { fileNameProblem } from './names.js';
import type { KeptStaging, ManifestFile, WriteSessionInit } from './types.js';

/**
 * The record of a kept staging, written last into the kept folder (and
 * removed when a session takes the folder over, so it is never published).
 */
export const KEPT_FILE = '_kept.json';

/** Name prefix of kept staging folders under `raw/.staging/`. */
export const KEPT_PREFIX = 'kept-';

/** Largest `_kept.json` read back (a source's state: counters, where to go on). @defaultValue 256 MiB */
export const MAX_KEPT_BYTES = 256 * 1024 * 1024;

/** A kept record (`_kept.json`): both lakes write this shape (a bucket's adds where its version is and its takeover token). */
export const keptRecordSchema = z.strictObject({
  resumeKey: z.string(),
  source: z.string(),
  date: z.string(),
  keptAt: z.string(),
  files: z.array(
    z.strictObject({
      path: z.string().refine((p) => fileNameProblem(p) === undefined),
      bytes: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      origin: z.string(),
    }),
  ),
  state: z.record(z.string(), z.unknown()),
});

type KeptRecord = z.infer<typeof keptRecordSchema>;

/** `raw/.staging/kept-<sha256 of the key>`: one kept staging per resume key. */
export function keptStagingDir(stagingRoot: string, resumeKey: string): string {
  return path.join(stagingRoot, `${KEPT_PREFIX}${createHash('sha256').update(resumeKey).digest('hex').slice(0, 32)}`);
}

/** The kept record of `files` and `state`, as written to `_kept.json`. */
export function keptRecordText(init: WriteSessionInit & { resumeKey: string }, files: readonly ManifestFile[], state: Record<string, unknown>, keptAt: string): string {
  const record: KeptRecord = { resumeKey: init.resumeKey, source: init.source, date: init.date, keptAt, files: [...files], state };
  return JSON.stringify(record);
}

/** Why the kept record in `dir` cannot be resumed, or the record. */
async function readKeptRecord(dir: string, init: WriteSessionInit & { resumeKey: string }): Promise<KeptRecord | string> {
  let text: string;
  try {
    const file = path.join(dir, KEPT_FILE);
    if ((await lstat(file)).size > MAX_KEPT_BYTES) return `${KEPT_FILE} is over ${MAX_KEPT_BYTES} bytes`;
    text = await readFile(file, 'utf8');
  } catch (err) {
    return `no readable ${KEPT_FILE} (${errorCode(err) ?? String(err)})`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${KEPT_FILE} is not JSON`;
  }
  const result = keptRecordSchema.safeParse(parsed);
  if (!result.success) return `${KEPT_FILE} is not a kept record`;
  const record = result.data;
  if (record.resumeKey !== init.resumeKey || record.source !== init.source || record.date !== init.date) {
    return `${KEPT_FILE} belongs to ${record.source} ${record.date} (${record.resumeKey})`;
  }
  for (const f of record.files) {
    const st = await lstat(versionFilePath(dir, f.path)).catch(() => undefined);
    if (!st?.isFile() || st.size !== f.bytes) return `kept file ${f.path} is missing or changed size`;
  }
  return record;
}

/**
 * Takes over the staging kept for `init.resumeKey`, if any: renames it to
 * `into` (atomic, so of two sessions of one key only one gets it), checks its
 * record (same key, source and date; every file there with its size) and
 * removes the record. A kept staging that fails a check is removed, and the
 * session starts empty.
 */
export async function takeKeptStaging(
  fs: LakeFileSystem,
  stagingRoot: string,
  init: WriteSessionInit & { resumeKey: string },
  into: string,
): Promise<KeptStaging | undefined> {
  try {
    await fs.rename(keptStagingDir(stagingRoot, init.resumeKey), into);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const record = await readKeptRecord(into, init);
  if (typeof record === 'string') {
    await fs.remove(into);
    return undefined;
  }
  await fs.remove(path.join(into, KEPT_FILE));
  return { files: record.files, state: record.state, keptAt: record.keptAt };
}
