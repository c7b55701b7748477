import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { WriteSessionInit } from '@recomart/lake';

/** A fresh, empty temp folder to use as `$DATA_DIR`; `remove()` deletes it. */
export async function tempDataDir(prefix = 'lake-test-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temp `$DATA_DIR` for every test of the calling file, removed after
 * it (hooks registered here, before the file's own): read `data.dir` inside
 * a test or a later hook.
 */
export function tempDataDirEach(prefix?: string): { readonly dir: string } {
  let current: { dir: string; remove(): Promise<void> } | undefined;
  beforeEach(async () => {
    current = await tempDataDir(prefix);
  });
  afterEach(async () => {
    await current?.remove();
    current = undefined;
  });
  return {
    get dir(): string {
      if (current === undefined) throw new Error('tempDataDirEach: the data dir exists only while a test runs');
      return current.dir;
    },
  };
}

/** Every path under `dir` (files and folders), relative, sorted. */
export async function treeOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((e) => e.split(path.sep).join('/')).sort();
}

/** Entries of a folder, or [] when it does not exist. */
export async function entriesOf(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** A valid session init for tests. */
export function sessionInit(overrides: Partial<WriteSessionInit> = {}): WriteSessionInit {
  return { source: 'clickstream', date: '2024-03-09', runId: 'run-1', jobId: 'clickstream__2024-03-09', attempt: 1, ...overrides };
}

/** An injected filesystem error, shaped like Node's own. */
export function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall });
}
