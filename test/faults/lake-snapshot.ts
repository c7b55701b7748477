import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

/** `{relative path under $DATA_DIR/raw → sha256}` of every committed file. */
export type LakeSnapshot = ReadonlyMap<string, string>;

/** sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const e of entries) {
    const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) await walk(path.join(dir, e.name), childRel, out);
    else out.push(childRel);
  }
}

/**
 * Hashes every file under `$DATA_DIR/raw/<source>/…` (the staging area
 * `raw/.staging` is left out: it is private to writers). Taken before a fault
 * and compared after it, it shows that nothing committed changed.
 */
export async function snapshotLake(dataDir: string): Promise<LakeSnapshot> {
  const raw = path.join(dataDir, 'raw');
  const files: string[] = [];
  let sources;
  try {
    sources = await readdir(raw, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  for (const s of sources) if (s.isDirectory() && !s.name.startsWith('.')) await walk(path.join(raw, s.name), s.name, files);
  const out = new Map<string, string>();
  for (const f of files.sort()) out.set(f, await sha256File(path.join(raw, ...f.split('/'))));
  return out;
}

/** What changed from `before` to `after`: files gone or with other bytes (new files are fine). */
export function snapshotChanges(before: LakeSnapshot, after: LakeSnapshot): string[] {
  const problems: string[] = [];
  for (const [file, hash] of before) {
    const now = after.get(file);
    if (now === undefined) problems.push(`raw/${file} was committed before the fault and is gone`);
    else if (now !== hash) problems.push(`raw/${file} changed: sha256 ${hash} before the fault, ${now} after`);
  }
  return problems;
}
