import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TransientError } from '@recomart/jobs';
import { SYNC_WRITE_MAX_BYTES, nodeFileSystem, openLake, type WriteHandle } from '@recomart/lake';
import { errno, sessionInit, tempDataDirEach } from './temp-lake.js';

const data = tempDataDirEach('lake-fs-test-');

describe('nodeFileSystem.writeNewFile', () => {
  it.each([
    ['a small file (written on the calling thread once the pool created it)', 14_500],
    ['an empty file', 0],
    ['a file over the synchronous limit (written through the thread pool)', SYNC_WRITE_MAX_BYTES + 1],
  ])('%s: holds every byte, and its handle fsyncs and closes', async (_label, size) => {
    const file = path.join(data.dir, 'page.json');
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7) % 251;
    const handle = await nodeFileSystem.writeNewFile(file, bytes);
    await handle.sync();
    await handle.close();
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o444 & ~process.umask());
  });

  it('replaces an existing file (like createFile)', async () => {
    const file = path.join(data.dir, 'again.json');
    const first = await nodeFileSystem.writeNewFile(file, Buffer.from('a much longer first body'));
    await first.close();
    const second = await nodeFileSystem.writeNewFile(file, Buffer.from('short'));
    await second.close();
    expect(await readFile(file, 'utf8')).toBe('short');
  });

  it('fails like Node does when the folder is missing: ENOENT from open', async () => {
    const err = (await nodeFileSystem.writeNewFile(path.join(data.dir, 'missing', 'x.json'), Buffer.from('{}')).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('open');
  });
});

describe('a lake given a replacement createFile only', () => {
  it('routes whole-file writes through it, so an injected fault reaches writeFile', async () => {
    const created: string[] = [];
    const lake = openLake({
      dataDir: data.dir,
      fileSystem: {
        async createFile(file: string): Promise<WriteHandle> {
          created.push(path.basename(file));
          if (file.endsWith('bad.json')) throw errno('EMFILE', 'open');
          return nodeFileSystem.createFile(file);
        },
      },
    });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    await session.writeFile('good.json', 'x', '{}');
    const err = await session.writeFile('bad.json', 'x', '{}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: creating staged file "bad.json" failed: EMFILE: injected, open');
    expect(created).toEqual(['good.json', 'bad.json']);
  });
});

/** The `lsattr -d` flags of a folder, or undefined where the filesystem (or the machine) has no such attributes. */
function attributesOf(dir: string): string | undefined {
  try {
    return execFileSync('lsattr', ['-d', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/)[0];
  } catch {
    return undefined;
  }
}

/** Whether `chattr +T` works on folders in the temp folder here (ext2/3/4 with e2fsprogs). */
function topFolderFlagWorks(): boolean {
  const probe = mkdtempSync(path.join(tmpdir(), 'lake-topdir-probe-'));
  try {
    execFileSync('chattr', ['+T', probe], { stdio: 'ignore' });
    return attributesOf(probe)?.includes('T') === true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

describe('spreading the staging folders', () => {
  it.skipIf(!topFolderFlagWorks())('the first session marks raw/.staging with ext4\'s T attribute, so each staging folder gets a block group of its own', async () => {
    const lake = openLake({ dataDir: data.dir });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    await session.writeFile('pages/000001.json', 'x', '{}');
    expect(attributesOf(path.join(data.dir, 'raw', '.staging'))).toContain('T');
    expect(attributesOf(data.dir)).not.toContain('T');
    await session.abort();
  });

  it('is best effort: a folder that cannot be marked is no error', async () => {
    await expect(nodeFileSystem.spreadSubfolders(path.join(data.dir, 'missing'))).resolves.toBeUndefined();
  });
});
