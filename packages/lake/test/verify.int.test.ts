import { appendFile, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CorruptVersionError, openLake, type CommitResult, type Lake } from '@recomart/lake';
import { sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

const data = tempDataDirEach();
let lake: Lake;

beforeEach(async () => {
  lake = openLake({ dataDir: data.dir });
});

async function commit(files: Record<string, string | Buffer>, init = sessionInit()): Promise<CommitResult> {
  const session = await lake.begin(init);
  for (const [name, body] of Object.entries(files)) await session.writeFile(name, `/landing/${name}`, body);
  return session.commit({ records: Object.keys(files).length, rejected: 0, validation: {} });
}

async function flipByte(file: string, at: number): Promise<Buffer> {
  const bytes = await readFile(file);
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await writeFile(file, bytes);
  return bytes;
}

describe('verify', () => {
  it('passes on an untouched lake', async () => {
    await commit({ 'a.csv': 'one', 'pages/0001.json': '{}' });
    await commit({ 'a.csv': 'two' }, sessionInit({ source: 'products', date: '2024-01-01' }));
    expect(await lake.verify()).toEqual({ ok: true, versionsChecked: 2, filesChecked: 3, problems: [] });
  });

  it('reports a flipped byte with the file path and rewrites nothing', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abcdefgh');
    const result = await commit({ 'events.csv': big, 'pages/0001.json': '{"a":1}' });
    await commit({ 'other.csv': 'fine' }, sessionInit({ date: '2024-03-10' }));
    const target = path.join(result.path, 'events.csv');
    const flipped = await flipByte(target, 2_000_000);
    const before = await stat(target);
    const treeBefore = await treeOf(data.dir);

    const report = await lake.verify();
    expect(report.ok).toBe(false);
    expect(report.versionsChecked).toBe(2);
    expect(report.problems).toEqual([
      {
        source: 'clickstream',
        date: '2024-03-09',
        version: 1,
        kind: 'corrupt',
        path: target,
        detail: expect.stringMatching(/^sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}$/) as unknown,
      },
    ]);
    // never "repairs": same bytes, same inode and mtime, same tree
    // Buffer.equals: vitest's deep equality walks a 3 MB buffer element by element (~10 s of CPU).
    expect((await readFile(target)).equals(flipped), 'the flipped file was rewritten').toBe(true);
    const after = await stat(target);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    expect(await treeOf(data.dir)).toEqual(treeBefore);
    // filters narrow it down
    expect((await lake.verify({ source: 'clickstream', date: '2024-03-10' })).ok).toBe(true);
    expect((await lake.verify({ date: '2024-03-09' })).problems.map((p) => p.path)).toEqual([target]);
  });

  it('reports missing, extra and resized files with their paths', async () => {
    const result = await commit({ 'a.csv': 'aaaa', 'b.csv': 'bbbb', 'pages/0001.json': '{}' });
    await rm(path.join(result.path, 'a.csv'));
    await appendFile(path.join(result.path, 'b.csv'), 'more');
    await writeFile(path.join(result.path, 'pages', 'stray.json'), '{}');
    const report = await lake.verify();
    expect(report.problems.map((p) => [p.kind, p.path, p.detail])).toEqual([
      ['missing', path.join(result.path, 'a.csv'), 'listed in the manifest (4 bytes) but not on disk'],
      ['corrupt', path.join(result.path, 'b.csv'), 'size 8 bytes, the manifest says 4'],
      ['extra', path.join(result.path, 'pages', 'stray.json'), 'on disk but not in the manifest'],
    ]);
  });
});

describe('manifests that do not match the schema', () => {
  it('hides the version from readers, refuses it when asked by number, and verify reports it', async () => {
    const v1 = await commit({ 'a.csv': 'one' });
    const v2 = await commit({ 'a.csv': 'two' });
    const manifestFile = path.join(v2.path, '_manifest.json');
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestFile, JSON.stringify({ ...m, records: -5 }));

    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1]);
    expect((await lake.readManifest('clickstream', '2024-03-09'))?.version).toBe(1);
    const err = await lake.readManifest('clickstream', '2024-03-09', 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptVersionError);
    expect((err as Error).message).toBe(`${manifestFile} is refused: records: Too small: expected number to be >=0`);
    await expect(lake.openFile('clickstream', '2024-03-09', 2, 'a.csv')).rejects.toBeInstanceOf(CorruptVersionError);

    const report = await lake.verify();
    expect(report.problems).toEqual([
      { source: 'clickstream', date: '2024-03-09', version: 2, kind: 'bad-manifest', path: manifestFile, detail: 'records: Too small: expected number to be >=0' },
    ]);
    // a new write goes above the hidden version, never onto it
    const v3 = await commit({ 'a.csv': 'three' });
    expect(v3.version).toBe(3);
    expect(v1.version).toBe(1);
  });

  it('refuses a manifest that names another folder, or none at all', async () => {
    const v1 = await commit({ 'a.csv': 'one' });
    const manifestFile = path.join(v1.path, '_manifest.json');
    const m = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    await writeFile(manifestFile, JSON.stringify({ ...m, version: 7 }));
    await expect(lake.readManifest('clickstream', '2024-03-09', 1)).rejects.toThrow(
      `${manifestFile} is refused: it names clickstream 2024-03-09 v7 but lies in clickstream 2024-03-09 v1`,
    );
    await rm(manifestFile);
    await expect(lake.readManifest('clickstream', '2024-03-09', 1)).rejects.toThrow(`${manifestFile} is refused: _manifest.json is missing`);
    expect(await lake.listPartitions('clickstream')).toEqual([]);
    expect((await lake.verify()).problems.map((p) => p.kind)).toEqual(['bad-manifest']);
  });
});

describe('an edited manifest (issue 12, finding 5)', () => {
  it('is sealed read-only on commit, its digest recorded beside it, and plain verify reports an edit', async () => {
    const v1 = await commit({ 'a.csv': 'one', 'pages/0001.json': '{}' });
    const manifestFile = path.join(v1.path, '_manifest.json');
    const text = await readFile(manifestFile, 'utf8');
    expect(v1.manifestSha256).toBe(createHash('sha256').update(text).digest('hex'));
    expect(await readFile(path.join(v1.path, '_manifest.json.sha256'), 'utf8')).toBe(`${v1.manifestSha256}  _manifest.json\n`);
    const modes = await Promise.all(['', 'pages', 'a.csv', 'pages/0001.json', '_manifest.json', '_manifest.json.sha256'].map(async (p) => [p, (await stat(path.join(v1.path, p))).mode & 0o777]));
    expect(modes).toEqual([['', 0o555], ['pages', 0o555], ['a.csv', 0o444], ['pages/0001.json', 0o444], ['_manifest.json', 0o444], ['_manifest.json.sha256', 0o444]]);
    expect(await lake.verify()).toMatchObject({ ok: true, problems: [] });

    // what finding 5 did: "records": 1 → 0, still a valid manifest (root ignores the mode)
    expect(text).toContain('"records": 2,');
    await writeFile(manifestFile, text.replace('"records": 2,', '"records": 1,'));
    expect((await lake.readManifest('clickstream', '2024-03-09'))?.records).toBe(1);
    const report = await lake.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        source: 'clickstream',
        date: '2024-03-09',
        version: 1,
        kind: 'bad-manifest',
        path: manifestFile,
        detail: expect.stringMatching(new RegExp(`^sha256 [0-9a-f]{64}, _manifest.json.sha256 says ${v1.manifestSha256}$`)) as unknown,
      },
    ]);
  });

  it('gives an unchanged result the digest of the manifest it kept', async () => {
    const v1 = await commit({ 'a.csv': 'one' });
    const again = await commit({ 'a.csv': 'one' }, sessionInit({ runId: 'run-2' }));
    expect(again.status).toBe('unchanged');
    expect(again.manifestSha256).toBe(v1.manifestSha256);
  });
});

describe('reader', () => {
  it('lists sources, partitions in a range, versions, and streams a file', async () => {
    await commit({ 'a.csv': 'one' }, sessionInit({ date: '2024-01-30' }));
    await commit({ 'a.csv': 'two' }, sessionInit({ date: '2024-02-01' }));
    await commit({ 'a.csv': 'three' }, sessionInit({ date: '2024-02-01' }));
    await commit({ 'p.json': '{}' }, sessionInit({ source: 'products', date: '2024-02-01' }));

    expect(await lake.listSources()).toEqual(['clickstream', 'products']);
    expect(await lake.listPartitions('clickstream')).toEqual(['2024-01-30', '2024-02-01']);
    expect(await lake.listPartitions('clickstream', { from: '2024-01-31' })).toEqual(['2024-02-01']);
    expect(await lake.listPartitions('clickstream', { to: '2024-01-31' })).toEqual(['2024-01-30']);
    expect(await lake.listPartitions('nothing')).toEqual([]);
    expect(await lake.listVersions('clickstream', '2024-02-01')).toEqual([1, 2]);
    expect(await lake.listVersions('clickstream', '2024-02-02')).toEqual([]);
    expect(await lake.readManifest('clickstream', '2024-02-02')).toBeUndefined();
    expect(await lake.readManifest('clickstream', '2024-02-01', 9)).toBeUndefined();

    const chunks: Buffer[] = [];
    for await (const c of await lake.openFile('clickstream', '2024-02-01', 1, 'a.csv')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('two');
    await expect(lake.openFile('clickstream', '2024-02-01', 1, 'b.csv')).rejects.toThrow('file "b.csv" is not in clickstream 2024-02-01 v1');
    await expect(lake.openFile('clickstream', '2024-02-01', 5, 'a.csv')).rejects.toThrow('clickstream 2024-02-01 has no committed version 5');
  });

  it('refuses to open a committed file that went missing or was swapped for a link', async () => {
    const v1 = await commit({ 'a.csv': 'one', 'b.csv': 'two' });
    await rm(path.join(v1.path, 'a.csv'));
    await expect(lake.openFile('clickstream', '2024-03-09', 1, 'a.csv')).rejects.toThrow(
      `${path.join(v1.path, 'a.csv')} is listed in the manifest of clickstream 2024-03-09 v1 but is missing (run "recomart lake verify")`,
    );
    await rm(path.join(v1.path, 'b.csv'));
    await symlink('/etc/hostname', path.join(v1.path, 'b.csv'));
    await expect(lake.openFile('clickstream', '2024-03-09', 1, 'b.csv')).rejects.toThrow(
      `${path.join(v1.path, 'b.csv')} is listed in the manifest of clickstream 2024-03-09 v1 but is a link out of the version`,
    );
    await expect(lake.openFile('clickstream', '2024-03-09', 1, 'b.csv')).rejects.toBeInstanceOf(CorruptVersionError);
    expect((await lake.verify()).problems.map((p) => [p.kind, p.detail])).toEqual([
      ['missing', 'listed in the manifest (3 bytes) but not on disk'],
      ['corrupt', 'not a regular file'],
    ]);
  });
});
