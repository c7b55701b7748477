import { open, mkdir, rename, rm } from 'node:fs/promises';

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
  /** Creates (or truncates) a file for writing. */
  createFile(path: string): Promise<WriteHandle>;
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
}

/** Error codes of platforms where a folder cannot be fsynced; nothing to do there. */
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF']);

async function createFile(path: string): Promise<WriteHandle> {
  const fh = await open(path, 'w', 0o644);
  return {
    async write(data: Uint8Array): Promise<void> {
      let offset = 0;
      while (offset < data.byteLength) {
        const { bytesWritten } = await fh.write(data, offset, data.byteLength - offset);
        if (bytesWritten <= 0) throw Object.assign(new Error(`write to ${path} made no progress`), { code: 'EIO' });
        offset += bytesWritten;
      }
    },
    sync: () => fh.sync(),
    close: () => fh.close(),
  };
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

/** The real filesystem. */
export const nodeFileSystem: LakeFileSystem = {
  createFile,
  mkdirp: (path) => mkdir(path, { recursive: true }),
  mkdirExclusive: async (path) => {
    await mkdir(path);
  },
  rename,
  remove: (path) => rm(path, { recursive: true, force: true, maxRetries: 3 }),
  syncDir,
};
