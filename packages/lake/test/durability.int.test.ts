import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, TransientError, classifyError } from '@recomart/jobs';
import { nodeFileSystem, openLake, type LakeFileSystem, type WriteHandle } from '@recomart/lake';
import { SYNC_BATCH_FILES } from '../src/file-syncer.js';
import { entriesOf, errno, sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

const data = tempDataDirEach();

/**
 * The real filesystem, recording in order every file created, written,
 * fsynced and closed, and every rename; `failSync` / `failWrite` pick files
 * whose fsync or write fails, `holdWrite` files whose write waits for `release()`.
 */
function recordingFs(options: { failSync?: (file: string) => boolean; failWrite?: (file: string) => boolean; holdWrite?: (file: string) => boolean } = {}) {
  const events: string[] = [];
  const held: Array<() => void> = [];
  let open = 0;
  const name = (file: string) => file.split(`${path.sep}.staging${path.sep}`)[1]?.split(path.sep).slice(1).join('/') ?? path.basename(file);
  const fileSystem: Partial<LakeFileSystem> = {
    async createFile(file: string): Promise<WriteHandle> {
      const real = await nodeFileSystem.createFile(file);
      open += 1;
      events.push(`create ${name(file)}`);
      return {
        async write(bytes: Uint8Array): Promise<void> {
          if (options.holdWrite?.(file)) await new Promise<void>((resolve) => held.push(resolve));
          if (options.failWrite?.(file)) throw errno('ENOSPC', 'write');
          await real.write(bytes);
        },
        async sync(): Promise<void> {
          events.push(`sync ${name(file)}`);
          if (options.failSync?.(file)) throw errno('EIO', 'fsync');
          await real.sync();
        },
        async close(): Promise<void> {
          open -= 1;
          events.push(`close ${name(file)}`);
          await real.close();
        },
      };
    },
    async rename(from: string, to: string): Promise<void> {
      events.push(`rename ${path.basename(to)}`);
      await nodeFileSystem.rename(from, to);
    },
  };
  return {
    fileSystem,
    events,
    openHandles: () => open,
    release: () => {
      for (const go of held.splice(0)) go();
    },
  };
}

const pageName = (i: number) => `pages/${String(i).padStart(6, '0')}.json`;
const staging = () => path.join(data.dir, 'raw', '.staging');

describe('durability of many small files', () => {
  it('fsyncs and closes every file exactly once, all before the rename publishes the version', async () => {
    const rec = recordingFs();
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    const pages = SYNC_BATCH_FILES * 2 + 5;
    await Promise.all(Array.from({ length: pages }, (_, i) => session.writeFile(pageName(i + 1), `http://api.test/p?page=${i + 1}`, `{"page":${i + 1}}`)));
    const sink = session.createFile('streamed.bin', 'generated');
    await pipeline(Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(1000, 2)]), sink.stream);
    await sink.done;
    const result = await session.commit({ records: pages, rejected: 0, validation: {} });

    expect(result.status).toBe('committed');
    const files = [...Array.from({ length: pages }, (_, i) => pageName(i + 1)), 'streamed.bin'];
    const renameAt = rec.events.indexOf('rename v1');
    expect(renameAt).toBeGreaterThan(0);
    for (const f of files) {
      expect(rec.events.filter((e) => e === `sync ${f}`), f).toHaveLength(1);
      expect(rec.events.filter((e) => e === `close ${f}`), f).toHaveLength(1);
      expect(rec.events.indexOf(`sync ${f}`)).toBeLessThan(rec.events.indexOf(`close ${f}`));
      expect(rec.events.indexOf(`close ${f}`)).toBeLessThan(renameAt);
    }
    expect(rec.openHandles()).toBe(0);
    expect(result.manifest.files.map((f) => f.path).sort()).toEqual([...files].sort());
    expect((await lake.verify()).ok).toBe(true);
  });

  it('an fsync failing at commit: retryable TransientError naming the file, nothing published, staging removed, every handle closed', async () => {
    const rec = recordingFs({ failSync: (f) => f.endsWith('000003.json') });
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    for (let i = 1; i <= 5; i++) await session.writeFile(pageName(i), 'x', `page ${i}`);
    const err = await session.commit({ records: 5, rejected: 0, validation: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: flushing staged file "pages/000003.json" failed: EIO: injected, fsync');
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('EIO');
    expect(classifyError(err).retryable).toBe(true);
    expect(rec.events.some((e) => e.startsWith('rename'))).toBe(false);
    expect(await entriesOf(staging())).toEqual([]);
    expect(rec.openHandles()).toBe(0);
    expect(await lake.listPartitions('products')).toEqual([]);
  });

  it('an fsync failing in a background batch fails the session: a later write or the commit reports it, nothing published', async () => {
    const rec = recordingFs({ failSync: (f) => f.endsWith('000002.json') });
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    let failure: unknown;
    for (let i = 1; i <= SYNC_BATCH_FILES * 4 && failure === undefined; i++) {
      await session.writeFile(pageName(i), 'x', `page ${i}`).catch((e: unknown) => {
        failure = e;
      });
    }
    const commit = await session.commit({ records: 0, rejected: 0, validation: {} }).catch((e: unknown) => e);
    const err = failure ?? commit;
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: flushing staged file "pages/000002.json" failed: EIO: injected, fsync');
    expect(commit).toBeInstanceOf(TransientError);
    await session.abort();
    expect(rec.events.some((e) => e.startsWith('rename'))).toBe(false);
    expect(await entriesOf(staging())).toEqual([]);
    expect(rec.openHandles()).toBe(0);
  });

  it('content equal to the latest version commits unchanged without fsyncing a file again', async () => {
    const first = openLake({ dataDir: data.dir });
    const s1 = await first.begin(sessionInit({ source: 'products', runId: 'r1' }));
    for (let i = 1; i <= 3; i++) await s1.writeFile(pageName(i), 'x', `page ${i}`);
    await s1.commit({ records: 3, rejected: 0, validation: {} });

    const rec = recordingFs();
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const s2 = await lake.begin(sessionInit({ source: 'products', runId: 'r2' }));
    for (let i = 1; i <= 3; i++) await s2.writeFile(pageName(i), 'x', `page ${i}`);
    expect(await s2.commit({ records: 3, rejected: 0, validation: {} })).toMatchObject({ status: 'unchanged', version: 1 });
    expect(rec.events.filter((e) => e.startsWith('sync'))).toEqual([]);
    expect(rec.openHandles()).toBe(0);
    expect(await entriesOf(staging())).toEqual([]);
  });

  it('abort closes every finished file without fsyncing it', async () => {
    const rec = recordingFs();
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    for (let i = 1; i <= 10; i++) await session.writeFile(pageName(i), 'x', `page ${i}`);
    await session.abort();
    expect(rec.openHandles()).toBe(0);
    expect(rec.events.filter((e) => e.startsWith('sync'))).toEqual([]);
    expect(await entriesOf(staging())).toEqual([]);
  });
});

describe('writeFile', () => {
  it('ENOSPC: a retryable TransientError naming the file, reported once the staging is removed; the session is dead', async () => {
    const rec = recordingFs({ failWrite: (f) => f.endsWith('b.json') });
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    await session.writeFile('a.json', 'x', '{}');
    const err = await session.writeFile('b.json', 'x', '{"b":1}').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe('lake: writing staged file "b.json" failed: ENOSPC: injected, write');
    expect(await entriesOf(staging())).toEqual([]);
    await expect(session.commit({ records: 0, rejected: 0, validation: {} })).rejects.toBe(err);
    await expect(session.writeFile('c.json', 'x', '{}')).rejects.toBe(err);
    expect(rec.openHandles()).toBe(0);
  });

  it('quarantine stops a file still being written and lists it as incomplete; finished files are kept, fsynced', async () => {
    const rec = recordingFs({ holdWrite: (f) => f.endsWith('slow.json') });
    const lake = openLake({ dataDir: data.dir, fileSystem: rec.fileSystem });
    const session = await lake.begin(sessionInit({ source: 'products' }));
    await session.writeFile('done.json', 'x', '{"ok":true}');
    const slow = session.writeFile('slow.json', 'y', '{"slow":true}').then(
      () => undefined,
      (e: unknown) => e,
    );
    while (!rec.events.includes('create slow.json')) await new Promise<void>((r) => setImmediate(r));
    const quarantined = session.quarantine('bad pages');
    rec.release();
    const { path: where } = await quarantined;
    expect(String(await slow)).toMatch(/was quarantined$/);
    expect(await treeOf(where)).toEqual(['_reason.json', 'done.json', 'slow.json']);
    const reason = JSON.parse(await readFile(path.join(where, '_reason.json'), 'utf8')) as { files: unknown[] };
    expect(reason.files).toEqual([
      expect.objectContaining({ path: 'done.json', bytes: 11, complete: true }),
      // Its write was under way when the quarantine stopped it: listed with the bytes it got.
      expect.objectContaining({ path: 'slow.json', origin: 'y', bytes: (await readFile(path.join(where, 'slow.json'))).byteLength, complete: false }),
    ]);
    expect(rec.events).toContain('sync done.json');
    expect(rec.events).not.toContain('sync slow.json');
    expect(rec.openHandles()).toBe(0);
  });

  it('refuses data that is neither a string nor bytes, and a name inside an earlier file or around one', async () => {
    const lake = openLake({ dataDir: data.dir });
    const session = await lake.begin(sessionInit());
    await expect(session.writeFile('a.json', 'x', 42 as unknown as string)).rejects.toThrow(InvalidInputError);
    await session.writeFile('dir/inner/b.json', 'x', '{}');
    await expect(session.writeFile('dir', 'x', '{}')).rejects.toThrow('file name "dir" conflicts with "dir/inner/b.json" in this session');
    await expect(session.writeFile('dir/inner', 'x', '{}')).rejects.toThrow('file name "dir/inner" conflicts with "dir/inner/b.json" in this session');
    await session.writeFile('c.json', 'x', '{}');
    await expect(session.writeFile('c.json/d', 'x', '{}')).rejects.toThrow('file name "c.json/d" conflicts with "c.json" in this session');
    await session.abort();
  });
});
