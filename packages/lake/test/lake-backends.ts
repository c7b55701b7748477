import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { isProtocolObject, KEPT_FILE, openLake, stagingRoot, type Lake } from '@recomart/lake';
import { createTestBucket, type TestBucket } from '../../../test/helpers/test-s3.js';
import { entriesOf, tempDataDir, treeOf } from './temp-lake.js';
import type { WriterOptions } from './writer-process.js';

/**
 * One place a lake can live, for the conformance suite: a fresh, empty lake
 * for every test (a temp `$DATA_DIR`, or a fresh prefix in the file's bucket),
 * with the test-only ways to look behind the interface.
 */
export interface LakeBackend {
  readonly name: 'folder' | 's3';
  /** Opens (another handle on) this test's lake. */
  open(options?: { now?: () => Date }): Lake;
  /** What a writer child process needs to write into this test's lake. */
  writer(): Pick<WriterOptions, 'dataDir' | 's3'>;
  /** Overwrites one committed file with other bytes of the same size. */
  change(source: string, date: string, version: number, file: string): Promise<void>;
  /** Replaces one committed file's bytes (any size: a flipped byte, a truncation). */
  rewrite(source: string, date: string, version: number, file: string, bytes: Buffer): Promise<void>;
  /** The bytes of one committed file, behind the lake's back. */
  bytesOf(source: string, date: string, version: number, file: string): Promise<Buffer>;
  /** Deletes one committed file. */
  remove(source: string, date: string, version: number, file: string): Promise<void>;
  /** What writers left that is not part of a committed version (staging folders; objects, markers, uploads). */
  leftovers(): Promise<string[]>;
  /** The data files of the one kept staging (a kept folder's; a kept version's objects), without the protocol's own. */
  keptFiles(): Promise<string[]>;
  /** Replaces a file of the one kept staging, behind the lake's back. */
  rewriteKept(file: string, bytes: Buffer): Promise<void>;
}

/** Registers the hooks of a folder backend (fresh temp `$DATA_DIR` per test). */
function folderBackend(): LakeBackend {
  let current: { dir: string; remove(): Promise<void> } | undefined;
  beforeEach(async () => {
    current = await tempDataDir('lake-conf-');
  });
  afterEach(async () => {
    await current?.remove();
  });
  const dir = () => {
    if (!current) throw new Error('the folder lake exists only while a test runs');
    return current.dir;
  };
  const fileOf = (lake: Lake, source: string, date: string, version: number, file: string) => path.join(lake.versionLocation(source, date, version), file);
  return {
    name: 'folder',
    open: (options = {}) => openLake({ dataDir: dir(), ...options }),
    writer: () => ({ dataDir: dir() }),
    async change(source, date, version, file) {
      const lake = openLake({ dataDir: dir() });
      const m = await lake.readManifest(source, date, version);
      const bytes = m?.files.find((f) => f.path === file)?.bytes ?? 0;
      const target = fileOf(lake, source, date, version, file);
      await rm(target, { force: true });
      await writeFile(target, Buffer.alloc(bytes, 0x5a));
    },
    async rewrite(source, date, version, file, bytes) {
      const target = fileOf(openLake({ dataDir: dir() }), source, date, version, file);
      await rm(target, { force: true });
      await writeFile(target, bytes);
    },
    bytesOf: (source, date, version, file) => readFile(fileOf(openLake({ dataDir: dir() }), source, date, version, file)),
    async remove(source, date, version, file) {
      await rm(fileOf(openLake({ dataDir: dir() }), source, date, version, file));
    },
    leftovers: () => entriesOf(stagingRoot(dir())),
    async keptFiles() {
      const kept = await keptFolder(dir());
      const tree = await treeOf(kept);
      const files = await Promise.all(tree.map(async (e) => ((await stat(path.join(kept, e))).isFile() ? e : undefined)));
      return files.filter((e): e is string => e !== undefined && e !== KEPT_FILE);
    },
    async rewriteKept(file, bytes) {
      await writeFile(path.join(await keptFolder(dir()), file), bytes);
    },
  };
}

/** The one kept folder under the staging root. */
async function keptFolder(dataDir: string): Promise<string> {
  const kept = (await entriesOf(stagingRoot(dataDir))).filter((e) => e.startsWith('kept-'));
  if (kept.length !== 1) throw new Error(`expected one kept staging, found ${JSON.stringify(kept)}`);
  return path.join(stagingRoot(dataDir), kept[0] as string);
}

/** Registers the hooks of an S3 backend (one bucket per file, a fresh prefix per test). */
function s3Backend(): LakeBackend {
  let bucket: TestBucket | undefined;
  let data: { dir: string; remove(): Promise<void> } | undefined;
  let prefix = '';
  beforeAll(async () => {
    bucket = await createTestBucket('conformance');
  });
  afterAll(async () => {
    await bucket?.remove();
  });
  beforeEach(async () => {
    prefix = `lake-${randomBytes(4).toString('hex')}`;
    data = await tempDataDir('lake-conf-s3-');
  });
  afterEach(async () => {
    await data?.remove();
  });
  const b = () => {
    if (!bucket || !data) throw new Error('the S3 lake exists only while a test runs');
    return { bucket, dataDir: data.dir };
  };
  const keyOf = async (source: string, date: string, version: number, file: string) => {
    const lake = openLake({ dataDir: b().dataDir, url: b().bucket.lakeUrl(prefix), s3: b().bucket.s3 });
    return lake.versionLocation(source, date, version).slice(`s3://${b().bucket.bucket}/`.length) + file;
  };
  return {
    name: 's3',
    open: (options = {}) => openLake({ dataDir: b().dataDir, url: b().bucket.lakeUrl(prefix), s3: b().bucket.s3, ...options }),
    writer: () => ({ dataDir: b().dataDir, s3: { lakeUrl: b().bucket.lakeUrl(prefix), endpoint: b().bucket.server.endpoint, env: b().bucket.env(prefix) } }),
    async change(source, date, version, file) {
      const key = await keyOf(source, date, version, file);
      const size = (await b().bucket.store.head(key))?.size ?? 0;
      await b().bucket.store.put(key, Buffer.alloc(size, 0x5a));
    },
    async rewrite(source, date, version, file, bytes) {
      await b().bucket.store.put(await keyOf(source, date, version, file), bytes);
    },
    async bytesOf(source, date, version, file) {
      const key = await keyOf(source, date, version, file);
      const bytes = await b().bucket.store.getSmall(key, (await b().bucket.store.head(key))?.size ?? 0);
      if (bytes === undefined) throw new Error(`no object ${key}`);
      return bytes;
    },
    async remove(source, date, version, file) {
      await b().bucket.store.deleteKeys([await keyOf(source, date, version, file)]);
    },
    async leftovers() {
      const store = b().bucket.store;
      const objects = (await store.listObjects(`${prefix}/`)).map((o) => o.key);
      const committed = objects.filter((k) => k.endsWith('/_manifest.json')).map((k) => k.slice(0, -'_manifest.json'.length));
      // A claim stays with a tombstone, or with the `_taken-*` of a kept staging taken over: the number is never used again.
      const loose = objects.filter((k) => !/\/(_claim|_abandoned|_taken-[0-9a-f]{32})\.json$/.test(k) && !committed.some((v) => k.startsWith(v)));
      const uploads = (await store.listPendingUploads(`${prefix}/`)).map((u) => `${u.key} (upload)`);
      return [...loose, ...uploads].sort();
    },
    async keptFiles() {
      const version = await keptVersion();
      const objects = await b().bucket.store.listObjects(version);
      return objects.map((o) => o.key.slice(version.length)).filter((name) => !isProtocolObject(name)).sort();
    },
    async rewriteKept(file, bytes) {
      await b().bucket.store.put(`${await keptVersion()}${file}`, bytes);
    },
  };

  /** The prefix of the one kept version (the one holding `_kept.json`). */
  async function keptVersion(): Promise<string> {
    const records = (await b().bucket.store.listObjects(`${prefix}/`)).filter((o) => o.key.endsWith('/_kept.json'));
    if (records.length !== 1) throw new Error(`expected one kept version, found ${JSON.stringify(records.map((o) => o.key))}`);
    return (records[0] as { key: string }).key.slice(0, -'_kept.json'.length);
  }
}

/** The backends the conformance suite runs against; call inside a `describe` (it registers that block's hooks). */
export const LAKE_BACKENDS: Record<LakeBackend['name'], () => LakeBackend> = { folder: folderBackend, s3: s3Backend };
