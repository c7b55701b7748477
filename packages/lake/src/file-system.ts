import { execFile } from 'node:child_process';
import { close, closeSync, fsync, open as openFd, writeSync } from 'node:fs';
import { chmod, open, mkdir, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';

/** A file open for writing in staging. */
export interface WriteHandle {
  /** Writes all of `data` at the current end of the file. */
  write(data: Uint8Array): Promise<void>;
  /** fsync */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every call that changes the filesystem, behind one small seam: the lake
 * uses `nodeFileSystem`; tests replace single calls to inject faults
 * (ENOSPC in the middle of a file, EIO on rename). Reads use `node:fs` directly.
 */
export interface LakeFileSystem {
  /**
   * Creates (or truncates) a file for writing. A new file is read-only
   * (0444) from birth: the returned handle is the only way to write it, so a
   * committed version's files are read-only without a `chmod` each.
   */
  createFile(path: string): Promise<WriteHandle>;
  /**
   * Creates (or truncates) a file holding all of `data` and resolves to its
   * still-open handle (for the fsync and close). A lake given a replacement
   * `createFile` but not this derives it from that `createFile`, so a fault
   * injected there reaches every file.
   */
  writeNewFile(path: string, data: Uint8Array): Promise<WriteHandle>;
  /** `mkdir -p`; resolves to the first folder it created, if any. */
  mkdirp(path: string): Promise<string | undefined>;
  /** Creates one folder; fails when it exists. */
  mkdirExclusive(path: string): Promise<void>;
  /** rename(2): atomic; onto a non-empty folder it fails (ENOTEMPTY/EEXIST). */
  rename(from: string, to: string): Promise<void>;
  /** `rm -rf` (does not follow symbolic links). */
  remove(path: string): Promise<void>;
  /** fsync of a folder, so its entries survive a crash. */
  syncDir(path: string): Promise<void>;
  /** chmod(2): how a published version's folders become read-only (0555). */
  chmod(path: string, mode: number): Promise<void>;
  /**
   * Asks the filesystem to place each sub-folder of `path` away from the
   * others, as if each were a top-level folder. Best effort: resolves
   * whatever happens.
   */
  spreadSubfolders(path: string): Promise<void>;
}

/** Mode of every file the lake creates: read-only, written only through the creating handle. */
export const LAKE_FILE_MODE = 0o444;
/** Mode of a published version's folders. */
export const LAKE_FOLDER_MODE = 0o555;

/** Error codes of platforms where a folder cannot be fsynced; nothing to do there. */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF']);

async function createFile(path: string): Promise<WriteHandle> {
  const fh = await open(path, 'w', LAKE_FILE_MODE);
  return {
    async write(data: Uint8Array): Promise<void> {
      let offset = 0;
      while (offset < data.byteLength) {
        const { bytesWritten } = await fh.write(data, offset, data.byteLength - offset);
        if (bytesWritten <= 0) throw noProgress(path);
        offset += bytesWritten;
      }
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
}

/**
 * Files up to this size are written with a synchronous call on the caller's
 * thread, once the thread pool has created them; bigger ones are written
 * through the pool too. For a small file the page-cache copy costs less than
 * handing the write to the pool and back: with one file per API page, those
 * hand-overs were the largest part of a snapshot's cost on a two-core
 * machine. Creating the file (which can take the kernel a while) and the
 * fsync (which waits on the device) always run in the pool.
 * @defaultValue 1 MiB
 */
export const SYNC_WRITE_MAX_BYTES = 1024 * 1024;

const fsyncFd = promisify(fsync);
const closeFd = promisify(close);
const openForWrite = promisify(openFd);

function noProgress(path: string): Error {
  return Object.assign(new Error(`write to ${path} made no progress`), { code: 'EIO', syscall: 'write' });
}

/** The handle of a file opened with a plain descriptor (written synchronously). */
function descriptorHandle(fd: number, path: string): WriteHandle {
  return {
    async write(data: Uint8Array): Promise<void> {
      writeAllSync(fd, data, path);
    },
    sync: () => fsyncFd(fd),
    close: () => closeFd(fd),
  };
}

function writeAllSync(fd: number, data: Uint8Array, path: string): void {
  let offset = 0;
  while (offset < data.byteLength) {
    const written = writeSync(fd, data, offset, data.byteLength - offset);
    if (written <= 0) throw noProgress(path);
    offset += written;
  }
}

/** `createFile` then one `write`; the handle is closed again when the write fails. */
async function writeThroughCreate(createFileFn: LakeFileSystem['createFile'], path: string, data: Uint8Array): Promise<WriteHandle> {
  const handle = await createFileFn(path);
  try {
    if (data.byteLength > 0) await handle.write(data);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return handle;
}

async function writeNewFile(path: string, data: Uint8Array): Promise<WriteHandle> {
  if (data.byteLength > SYNC_WRITE_MAX_BYTES) return writeThroughCreate(createFile, path, data);
  const fd = await openForWrite(path, 'w', LAKE_FILE_MODE);
  try {
    writeAllSync(fd, data, path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return descriptorHandle(fd, path);
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh.close();
  }
}

const execFileP = promisify(execFile);

/**
 * Sets ext2/3/4's `T` attribute (`chattr +T`: "top of directory
 * hierarchy") on `path`, so the kernel's Orlov allocator puts each new
 * sub-folder in a block group of its own instead of next to `path`. For the
 * staging root this matters: ext4 without a journal will not reuse an inode
 * freed in the last minutes and, for every file it creates, scans past all
 * of them in the folder's group. Where many files were just deleted (a
 * shared temp folder, a lake after a sweep) creating a file then costs
 * ~100-250 µs of kernel CPU instead of ~20 µs (measured on this project's
 * two-core CI machine: 188 µs under /tmp, 20 µs in a spread sub-folder).
 * Other filesystems, a missing `chattr` or no permission: nothing happens.
 */
async function spreadSubfolders(path: string): Promise<void> {
  if (process.platform !== 'linux') return;
  try {
    await execFileP('chattr', ['+T', path], { timeout: 5000, windowsHide: true });
  } catch {
    /* not ext2/3/4, no chattr, or not permitted: folders go where the filesystem puts them */
  }
}

/** The real filesystem. */
export const nodeFileSystem: LakeFileSystem = {
  createFile,
  writeNewFile,
  mkdirp: (path) => mkdir(path, { recursive: true }),
  mkdirExclusive: async (path) => {
    await mkdir(path);
  },
  rename,
  remove: (path) => rm(path, { recursive: true, force: true, maxRetries: 3 }),
  syncDir,
  chmod,
  spreadSubfolders,
};

/**
 * The real filesystem with some calls replaced (tests inject faults this
 * way). Replacing `createFile` alone also routes `writeNewFile` through it.
 */
export function withFileSystem(overrides: Partial<LakeFileSystem> = {}): LakeFileSystem {
  const fs: LakeFileSystem = { ...nodeFileSystem, ...overrides };
  if (overrides.createFile !== undefined && overrides.writeNewFile === undefined) {
    const createFileFn = overrides.createFile;
    fs.writeNewFile = (path, data) => writeThroughCreate(createFileFn, path, data);
  }
  return fs;
}
