import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where a writer was when `waitForStagingProgress` returned. */
export interface StagingPoint {
  /** Bytes of the largest file in the writer's staging folder (0 when it had none yet). */
  bytes: number;
  /** True when the staging folder was seen and then vanished (published or aborted). */
  gone: boolean;
}

async function stagingFolders(dataDir: string, pid: number): Promise<string[]> {
  try {
    const names = await readdir(path.join(dataDir, 'raw', '.staging'));
    // Staging folder names are `<time36>-<pid>-<random>`.
    return names.filter((n) => n.split('-')[1] === String(pid)).map((n) => path.join(dataDir, 'raw', '.staging', n));
  } catch {
    return [];
  }
}

async function largestFile(dir: string): Promise<number | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  let max = 0;
  for (const n of names) {
    const st = await stat(path.join(dir, n)).catch(() => undefined);
    if (st?.isFile() && st.size > max) max = st.size;
  }
  return max;
}

/**
 * Watches the lake's staging area until the writer with `pid` has staged at
 * least `minBytes` in one file, or its staging folder has come and gone
 * (published). Folders in `ignore` (an earlier attempt's leftovers) do not
 * count. Polls the filesystem every few milliseconds: this waits on a state
 * of the disk, not on time.
 */
export async function waitForStagingProgress(
  dataDir: string,
  pid: number,
  minBytes: number,
  options: { ignore?: ReadonlySet<string>; timeoutMs?: number } = {},
): Promise<StagingPoint> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let seen: string | undefined;
  for (;;) {
    const folders = (await stagingFolders(dataDir, pid)).filter((f) => !options.ignore?.has(f));
    if (seen === undefined) seen = folders[0];
    if (seen !== undefined) {
      const bytes = await largestFile(seen);
      if (bytes === undefined) return { bytes: 0, gone: true };
      if (bytes >= minBytes) return { bytes, gone: false };
    }
    if (Date.now() > deadline) throw new Error(`writer ${pid} staged nothing of ${minBytes} bytes in time`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The staging folders present now (to ignore them in a later wait). */
export async function stagingNow(dataDir: string): Promise<Set<string>> {
  try {
    return new Set((await readdir(path.join(dataDir, 'raw', '.staging'))).map((n) => path.join(dataDir, 'raw', '.staging', n)));
  } catch {
    return new Set();
  }
}
