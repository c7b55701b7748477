import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Mounts a tmpfs of `size` (e.g. `2m`) on `dir`; throws when the machine does not allow it. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Changes the size of the tmpfs on `dir` (its files stay). */
export function resizeTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'pipe' });
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe' });
}

/** Whether this process may mount a tmpfs (root, or a capable container): tried once on a scratch folder. */
export function canMountTmpfs(): boolean {
  const dir = mkdtempSync(path.join(tmpdir(), 'recomart-tmpfs-probe-'));
  try {
    mountTmpfs(dir, '64k');
    unmount(dir);
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
}
