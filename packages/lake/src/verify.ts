import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { errorCode } from './lake-errors.js';
import { checkSegmentedPages, type HashedFile } from './segmented-pages.js';
import { MANIFEST_FILE, MANIFEST_SHA256_FILE, parseManifestSha256Line, parseVersionDir, rawRoot, resolveInside } from './layout.js';
import { SOURCE_NAME_RE, checkDate, checkSourceName } from './names.js';
import { listDir, loadVersionManifest, partitionDirs } from './partition-reader.js';
import type { ManifestFile, VerifyProblem, VerifyReport } from './types.js';

/**
 * Files hashed at the same time by `verify`.
 * @defaultValue 4
 */
export const VERIFY_CONCURRENCY = 4;
/** Read size while hashing. */
const HASH_CHUNK_BYTES = 1024 * 1024;

/** sha256 and size of a stream's bytes. */
export async function hashStream(stream: AsyncIterable<unknown>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    hash.update(buf);
    bytes += buf.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** sha256 and size of a file, streamed. */
export function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  return hashStream(createReadStream(file, { highWaterMark: HASH_CHUNK_BYTES }));
}

/** Runs `task` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** What a file's bytes say against its manifest entry: a problem detail, or undefined when they match. */
export function contentProblem(got: { sha256: string; bytes: number }, file: ManifestFile): string | undefined {
  if (got.bytes !== file.bytes) return `size ${got.bytes} bytes, the manifest says ${file.bytes}`;
  if (got.sha256 !== file.sha256) return `sha256 ${got.sha256}, the manifest says ${file.sha256}`;
  return undefined;
}

/** Every file (not folder) under `dir`, as paths relative to it with `/`. */
async function walkFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await listDir(dir)) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walkFiles(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

interface VersionRef {
  source: string;
  date: string;
  version: number;
  dir: string;
}

async function checkFile(ref: VersionRef, file: ManifestFile, problems: VerifyProblem[]): Promise<void> {
  let full: string;
  try {
    full = resolveInside(ref.dir, ...file.path.split('/'));
  } catch {
    problems.push({ ...strip(ref), kind: 'corrupt', path: path.join(ref.dir, file.path), detail: 'the manifest names a path outside the version' });
    return;
  }
  const at = { ...strip(ref), path: full };
  try {
    const st = await lstat(full);
    if (!st.isFile()) {
      problems.push({ ...at, kind: 'corrupt', detail: 'not a regular file' });
      return;
    }
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') {
      problems.push({ ...at, kind: 'missing', detail: `listed in the manifest (${file.bytes} bytes) but not on disk` });
      return;
    }
    problems.push({ ...at, kind: 'corrupt', detail: `cannot be read: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  try {
    const detail = contentProblem(await hashFile(full), file);
    if (detail !== undefined) problems.push({ ...at, kind: 'corrupt', detail });
  } catch (err) {
    problems.push({ ...at, kind: 'corrupt', detail: `cannot be read: ${err instanceof Error ? err.message : String(err)}` });
  }
}

/**
 * The manifest against the digest recorded beside it (`_manifest.json.sha256`),
 * when there is one: versions written before it existed have none.
 */
async function checkManifestDigest(ref: VersionRef, problems: VerifyProblem[]): Promise<void> {
  const sidecar = path.join(ref.dir, MANIFEST_SHA256_FILE);
  let text: string;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    problems.push({ ...strip(ref), kind: 'corrupt', path: sidecar, detail: `cannot be read: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  const recorded = parseManifestSha256Line(text.slice(0, 200));
  if (recorded === undefined) {
    problems.push({ ...strip(ref), kind: 'corrupt', path: sidecar, detail: `not "<sha256>  ${MANIFEST_FILE}"` });
    return;
  }
  const got = await hashFile(path.join(ref.dir, MANIFEST_FILE));
  if (got.sha256 !== recorded) {
    problems.push({ ...strip(ref), kind: 'bad-manifest', path: path.join(ref.dir, MANIFEST_FILE), detail: `sha256 ${got.sha256}, ${MANIFEST_SHA256_FILE} says ${recorded}` });
  }
}

/**
 * Every page of a segmented snapshot against its index (`checkSegmentedPages`),
 * each problem naming the page and its URL; the sha256 and size of every
 * segment it read whole (regular files only).
 */
async function checkPages(ref: VersionRef, files: readonly ManifestFile[], problems: VerifyProblem[]): Promise<Map<string, HashedFile>> {
  const hashed = new Map<string, HashedFile>();
  const open = async (rel: string): Promise<Readable> => {
    const full = resolveInside(ref.dir, ...rel.split('/'));
    if (!(await lstat(full)).isFile()) throw new Error(`${rel} is not a regular file`);
    return createReadStream(full, { highWaterMark: HASH_CHUNK_BYTES });
  };
  for (const p of await checkSegmentedPages(files, open, (rel, got) => hashed.set(rel, got))) {
    problems.push({ ...strip(ref), kind: 'corrupt', path: path.join(ref.dir, p.path), detail: p.detail });
  }
  return hashed;
}

function strip(ref: VersionRef): { source: string; date: string; version: number } {
  return { source: ref.source, date: ref.date, version: ref.version };
}

/**
 * Re-hashes every file of every version (or of one source / one date)
 * against its manifest, and the manifest against its recorded digest, checks
 * every page of a segmented snapshot against its index, and
 * reports missing, extra and corrupt files and unreadable or altered
 * manifests, each with its absolute path. Reads only; never
 * repairs anything.
 */
export async function verifyLake(dataDir: string, filter: { source?: string; date?: string } = {}): Promise<VerifyReport> {
  const source = filter.source === undefined ? undefined : checkSourceName(filter.source);
  const date = filter.date === undefined ? undefined : checkDate(filter.date);
  const root = rawRoot(dataDir);
  const problems: VerifyProblem[] = [];
  let versionsChecked = 0;
  let filesChecked = 0;

  const sources = source !== undefined ? [source] : (await listDir(root)).filter((e) => e.isDirectory() && SOURCE_NAME_RE.test(e.name)).map((e) => e.name).sort();
  for (const src of sources) {
    for (const partition of await partitionDirs(path.join(root, src), date)) {
      const entries = (await listDir(partition.dir)).sort((a, b) => (parseVersionDir(a.name) ?? 0) - (parseVersionDir(b.name) ?? 0));
      for (const entry of entries) {
        const version = parseVersionDir(entry.name);
        if (version === undefined) {
          problems.push({ source: src, date: partition.date, version: 0, kind: 'extra', path: path.join(partition.dir, entry.name), detail: 'not a version folder' });
          continue;
        }
        const ref: VersionRef = { source: src, date: partition.date, version, dir: path.join(partition.dir, entry.name) };
        versionsChecked += 1;
        const loaded = await loadVersionManifest(ref.dir, ref);
        if (loaded.kind !== 'ok') {
          const detail = loaded.kind === 'bad' ? loaded.problem : 'vanished while verifying';
          problems.push({ ...strip(ref), kind: 'bad-manifest', path: path.join(ref.dir, MANIFEST_FILE), detail });
          continue;
        }
        await checkManifestDigest(ref, problems);
        const files = loaded.manifest.files;
        filesChecked += files.length;
        // The pages' pass hashes the segments it reads whole: those are not read again.
        const hashed = await checkPages(ref, files, problems);
        await eachLimited(files, VERIFY_CONCURRENCY, async (f) => {
          const got = hashed.get(f.path);
          if (got === undefined) return checkFile(ref, f, problems);
          const detail = contentProblem(got, f);
          if (detail !== undefined) problems.push({ ...strip(ref), kind: 'corrupt', path: path.join(ref.dir, f.path), detail });
        });
        const listed = new Set(files.map((f) => f.path));
        for (const rel of await walkFiles(ref.dir)) {
          if (rel === MANIFEST_FILE || rel === MANIFEST_SHA256_FILE || listed.has(rel)) continue;
          problems.push({ ...strip(ref), kind: 'extra', path: path.join(ref.dir, rel), detail: 'on disk but not in the manifest' });
        }
      }
    }
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: problems.length === 0, versionsChecked, filesChecked, problems };
}
