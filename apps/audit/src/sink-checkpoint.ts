import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { isStreamId } from './stream-id.js';

/** The last entry id persisted, per stream key. */
export type StreamPositions = Readonly<Record<string, string>>;

interface CheckpointFile {
  version: 1;
  savedAt: string;
  streams: Record<string, string>;
}

/** What loading found: the positions, and a problem worth a warning (then the positions are empty). */
export interface LoadedCheckpoint {
  positions: StreamPositions;
  problem?: string;
}

/**
 * Reads the checkpoint. A missing file means "from the start of every
 * stream"; so does an unreadable one (reported as `problem`): re-reading only
 * duplicates events under the same ids, which readers drop.
 */
export async function loadCheckpoint(file: string): Promise<LoadedCheckpoint> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { positions: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<CheckpointFile>;
    if (parsed.version !== 1 || !parsed.streams || typeof parsed.streams !== 'object') throw new Error('bad shape');
    const positions: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.streams)) if (isStreamId(v)) positions[k] = v;
    return { positions };
  } catch {
    return { positions: {}, problem: `audit sink checkpoint ${file} is unreadable; reading every stream from its start (duplicates keep their event ids)` };
  }
}

/**
 * Replaces the checkpoint atomically: a temporary file, fsynced, renamed over
 * the old one, then the directory fsynced, so a crash leaves the old or the
 * new checkpoint, never a torn one. Called only after the events up to these
 * positions are fsynced in the day files.
 */
export async function saveCheckpoint(file: string, positions: StreamPositions, now: Date = new Date()): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const body: CheckpointFile = { version: 1, savedAt: now.toISOString(), streams: { ...positions } };
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
