import path from 'node:path';
import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { isLogicalDate } from '@recomart/jobs';
import { errorCode } from './lake-errors.js';
import { MANIFEST_FILE, parseVersionDir } from './layout.js';
import { parseVersionManifest } from './manifest.js';
import type { Manifest } from './types.js';

/**
 * Largest `_manifest.json` a reader accepts.
 * @defaultValue 64 MiB
 */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** What a version folder's manifest turned out to be. */
export type LoadedManifest =
  | { kind: 'ok'; manifest: Manifest }
  /** The version folder does not exist. */
  | { kind: 'absent' }
  /** The folder exists but its manifest is missing, unreadable or invalid: the version is not visible. */
  | { kind: 'bad'; problem: string };

/** Names in a folder, or none when it does not exist. */
export async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

/** Every `v<N>` folder number in a partition folder (visible or not), ascending. */
export async function listVersionNumbers(partitionDir: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await listDir(partitionDir)) {
    const n = parseVersionDir(entry.name);
    if (n !== undefined) out.push(n);
  }
  return out.sort((a, b) => a - b);
}

async function readSmallFile(file: string, limit: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size > limit) throw new Error(`${file} is ${size} bytes, more than ${limit}`);
    return await fh.readFile({ encoding: 'utf8' });
  } finally {
    await fh.close();
  }
}

/**
 * Reads and checks a version folder's manifest: it must parse, match the
 * schema, and name the folder it is in (source, date, version).
 */
export async function loadVersionManifest(
  versionDir: string,
  expected: { source: string; date: string; version: number },
): Promise<LoadedManifest> {
  const file = path.join(versionDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readSmallFile(file, MAX_MANIFEST_BYTES);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') {
      return (await exists(versionDir)) ? { kind: 'bad', problem: `${MANIFEST_FILE} is missing` } : { kind: 'absent' };
    }
    if (code === 'ENOTDIR') return { kind: 'bad', problem: 'the version is not a folder' };
    return { kind: 'bad', problem: `${MANIFEST_FILE} cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = parseVersionManifest(text, expected);
  if ('problem' in parsed) return { kind: 'bad', problem: parsed.problem };
  return { kind: 'ok', manifest: parsed.manifest };
}

/** Whether `p` exists (any other stat error is thrown). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * The latest visible version of a partition (the highest number whose
 * manifest is valid) and the highest number taken by any `v<N>` folder,
 * visible or not (a new version must go above it).
 */
export async function latestVersion(
  partitionDir: string,
  source: string,
  date: string,
): Promise<{ latest: Manifest | undefined; highest: number }> {
  const numbers = await listVersionNumbers(partitionDir);
  const highest = numbers.length > 0 ? (numbers[numbers.length - 1] as number) : 0;
  for (let i = numbers.length - 1; i >= 0; i--) {
    const n = numbers[i] as number;
    const loaded = await loadVersionManifest(path.join(partitionDir, `v${n}`), { source, date, version: n });
    if (loaded.kind === 'ok') return { latest: loaded.manifest, highest };
  }
  return { latest: undefined, highest };
}

/** The visible versions of a partition (valid manifest), ascending. */
export async function visibleVersions(partitionDir: string, source: string, date: string): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const n of await listVersionNumbers(partitionDir)) {
    const loaded = await loadVersionManifest(path.join(partitionDir, `v${n}`), { source, date, version: n });
    if (loaded.kind === 'ok') out.push(loaded.manifest);
  }
  return out;
}

/** The `<yyyy>/<mm>/<dd>` folders of a source that name a real date (optionally one date), ascending. */
export async function partitionDirs(sourceDir: string, only?: string): Promise<Array<{ date: string; dir: string }>> {
  const out: Array<{ date: string; dir: string }> = [];
  if (only !== undefined) {
    const [y, m, d] = only.split('-') as [string, string, string];
    const dir = path.join(sourceDir, y, m, d);
    return (await listDir(dir)).length > 0 ? [{ date: only, dir }] : [];
  }
  for (const y of await listDir(sourceDir)) {
    if (!y.isDirectory() || !/^\d{4}$/.test(y.name)) continue;
    for (const m of await listDir(path.join(sourceDir, y.name))) {
      if (!m.isDirectory() || !/^\d{2}$/.test(m.name)) continue;
      for (const d of await listDir(path.join(sourceDir, y.name, m.name))) {
        const date = `${y.name}-${m.name}-${d.name}`;
        if (!d.isDirectory() || !/^\d{2}$/.test(d.name) || !isLogicalDate(date)) continue;
        out.push({ date, dir: path.join(sourceDir, y.name, m.name, d.name) });
      }
    }
  }
  return out.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
