import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { TransientError, classifyError } from '@recomart/jobs';
import { nodeFileSystem, openLake, type LakeFileSystem, type WriteHandle } from '@recomart/lake';
import { entriesOf, errno, sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

const data = tempDataDirEach();

/** A filesystem whose files named `name` accept `capacity` bytes, then fail with ENOSPC. */
function diskFullAfter(capacity: number, name: (file: string) => boolean): Partial<LakeFileSystem> {
  return {
    async createFile(file: string): Promise<WriteHandle> {
      const real = await nodeFileSystem.createFile(file);
      if (!name(file)) return real;
      let written = 0;
      return {
        async write(bytes: Uint8Array): Promise<void> {
          if (written + bytes.byteLength > capacity) throw errno('ENOSPC', 'write');
          written += bytes.byteLength;
          await real.write(bytes);
        },
        sync: () => real.sync(),
        close: () => real.close(),
      };
    },
  };
}

const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, (_, i) => Buffer.alloc(size, i)));

describe('disk full or I/O errors', () => {
  it('ENOSPC in the middle of a file: retryable TransientError with the cause, nothing published, staging cleaned', async () => {
    const lake = openLake({ dataDir: data.dir, fileSystem: diskFullAfter(300_000, (f) => f.endsWith('big.csv')) });
    const session = await lake.begin(sessionInit());
    await session.writeFile('small.csv', 'x', 'fits');
    const sink = session.createFile('big.csv', '/landing/big.csv');
    const piping = pipeline(chunks(20, 64 * 1024), sink.stream);
    await expect(piping).rejects.toBeInstanceOf(TransientError);
    const err = await sink.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: writing staged file "big.csv" failed: ENOSPC: injected, write');
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(classifyError(err).retryable).toBe(true);
    // `done` settles only once the session cleaned its staging folder.
    expect(await entriesOf(path.join(data.dir, 'raw', '.staging'))).toEqual([]);
    await expect(session.commit({ records: 0, rejected: 0, validation: {} })).rejects.toBe(err);
    expect(() => session.createFile('more.csv', 'x')).toThrow(err as Error);
    await session.abort();
    expect(await treeOf(data.dir)).toEqual(['raw', 'raw/.staging']);
  });

  it('ENOSPC while writing the manifest: nothing published, staging cleaned, the next write commits v1', async () => {
    const full = openLake({ dataDir: data.dir, fileSystem: diskFullAfter(10, (f) => f.endsWith('_manifest.json')) });
    const session = await full.begin(sessionInit());
    await session.writeFile('a.csv', 'x', 'rows');
    const err = await session.commit({ records: 1, rejected: 0, validation: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: committing clickstream 2024-03-09 failed: ENOSPC: injected, write');
    expect(await entriesOf(path.join(data.dir, 'raw', '.staging'))).toEqual([]);
    const lake = openLake({ dataDir: data.dir });
    expect(await lake.listPartitions('clickstream')).toEqual([]);
    expect(await entriesOf(path.join(data.dir, 'raw', 'clickstream', '2024', '03', '09'))).toEqual([]);

    const retry = await lake.begin(sessionInit());
    await retry.writeFile('a.csv', 'x', 'rows');
    expect(await retry.commit({ records: 1, rejected: 0, validation: {} })).toMatchObject({ status: 'committed', version: 1 });
  });

  it('EIO on the publishing rename: nothing published, staging cleaned', async () => {
    const lake = openLake({
      dataDir: data.dir,
      fileSystem: {
        rename: async () => {
          throw errno('EIO', 'rename');
        },
      },
    });
    const session = await lake.begin(sessionInit());
    await session.writeFile('a.csv', 'x', 'rows');
    await expect(session.commit({ records: 1, rejected: 0, validation: {} })).rejects.toThrow(
      'lake: committing clickstream 2024-03-09 failed: EIO: injected, rename',
    );
    expect(await entriesOf(path.join(data.dir, 'raw', '.staging'))).toEqual([]);
    expect(await lake.listPartitions('clickstream')).toEqual([]);
  });

  it('a failing mkdir of the staging folder fails the file retryably', async () => {
    const lake = openLake({
      dataDir: data.dir,
      fileSystem: {
        mkdirExclusive: async () => {
          throw errno('EROFS', 'mkdir');
        },
      },
    });
    const session = await lake.begin(sessionInit());
    const err = await session.writeFile('a.csv', 'x', 'rows').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: creating staged file "a.csv" failed: EROFS: injected, mkdir');
  });
});

describe('backpressure', () => {
  it('write() asks the producer to wait while the disk is slow, instead of buffering the file', async () => {
    const gates: Array<() => void> = [];
    let slow = true;
    const lake = openLake({
      dataDir: data.dir,
      fileSystem: {
        async createFile(file: string): Promise<WriteHandle> {
          const real = await nodeFileSystem.createFile(file);
          return {
            write: async (bytes) => {
              if (slow) await new Promise<void>((resolve) => gates.push(resolve));
              await real.write(bytes);
            },
            sync: () => real.sync(),
            close: () => real.close(),
          };
        },
      },
    });
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('slow.bin', 'x');
    const chunk = Buffer.alloc(64 * 1024, 7);
    let accepted = 0;
    while (sink.stream.write(chunk)) {
      accepted += 1;
      if (accepted > 64) break;
    }
    // 256 KiB high-water mark: the fourth or fifth 64 KiB chunk already says "wait".
    expect(accepted).toBeLessThanOrEqual(4);
    expect(sink.stream.writableLength).toBeLessThanOrEqual(sink.stream.writableHighWaterMark + chunk.byteLength);
    const drained = new Promise<void>((resolve) => sink.stream.once('drain', resolve));
    // The disk catches up.
    slow = false;
    for (const open of gates.splice(0)) open();
    await drained;
    sink.stream.end();
    const file = await sink.done;
    expect(file.bytes).toBe((accepted + 1) * chunk.byteLength);
    await session.abort();
  });
});
