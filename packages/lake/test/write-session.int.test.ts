import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recomart/jobs';
import { defaultCodeVersion, openLake, type Lake } from '@recomart/lake';
import { entriesOf, sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

const sha = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

const data = tempDataDirEach();
let lake: Lake;
let clock: number;

beforeEach(async () => {
  clock = Date.parse('2024-03-10T01:00:00.000Z');
  lake = openLake({ dataDir: data.dir, codeVersion: 'test-1.2.3', now: () => new Date(clock) });
});

const staging = () => path.join(data.dir, 'raw', '.staging');

describe('committing a version', () => {
  it('writes the files byte for byte into raw/<source>/<yyyy>/<mm>/<dd>/v1 with a complete manifest', async () => {
    const gz = gzipSync(Buffer.from('user_id,product_id\n1,2\n'));
    const page = '{"items":[{"product_id":"p1"}],"total":1}';
    const session = await lake.begin(sessionInit());
    await session.writeFile('events-000.csv.gz', '/landing/2024-03-09/events-000.csv.gz', gz);
    clock += 1500;
    await session.writeFile('pages/0001.json', 'http://127.0.0.1:4010/products?page=1', page);
    clock += 500;
    const result = await session.commit({ records: 2, rejected: 1, validation: { columns: 5 }, provenance: { pages: 1 } });

    const dir = path.join(data.dir, 'raw', 'clickstream', '2024', '03', '09', 'v1');
    expect(result).toMatchObject({ status: 'committed', version: 1, path: dir });
    expect(await readFile(path.join(dir, 'events-000.csv.gz'))).toEqual(gz);
    expect(await readFile(path.join(dir, 'pages', '0001.json'), 'utf8')).toBe(page);
    expect(await treeOf(dir)).toEqual(['_manifest.json', '_manifest.json.sha256', 'events-000.csv.gz', 'pages', 'pages/0001.json']);

    const manifest = JSON.parse(await readFile(path.join(dir, '_manifest.json'), 'utf8')) as unknown;
    expect(manifest).toEqual({
      manifestVersion: 1,
      source: 'clickstream',
      date: '2024-03-09',
      version: 1,
      runId: 'run-1',
      jobId: 'clickstream__2024-03-09',
      attempt: 1,
      worker: { host: hostname(), pid: process.pid },
      startedAt: '2024-03-10T01:00:00.000Z',
      committedAt: '2024-03-10T01:00:02.000Z',
      files: [
        { path: 'events-000.csv.gz', bytes: gz.byteLength, sha256: sha(gz), origin: '/landing/2024-03-09/events-000.csv.gz' },
        { path: 'pages/0001.json', bytes: Buffer.byteLength(page), sha256: sha(page), origin: 'http://127.0.0.1:4010/products?page=1' },
      ],
      records: 2,
      rejected: 1,
      validation: { columns: 5 },
      provenance: { pages: 1 },
      codeVersion: 'test-1.2.3',
    });
    expect(result.manifest).toEqual(manifest);
    expect(await entriesOf(staging())).toEqual([]);
  });

  it('streams a file through createFile, hashing what it writes', async () => {
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000, i));
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('big.bin', 'generated');
    await pipeline(Readable.from(chunks), sink.stream);
    const file = await sink.done;
    const whole = Buffer.concat(chunks);
    expect(file).toEqual({ path: 'big.bin', bytes: whole.byteLength, sha256: sha(whole), origin: 'generated' });
    const result = await session.commit({ records: 0, rejected: 0, validation: {} });
    expect(sha(await readFile(path.join(result.path, 'big.bin')))).toBe(sha(whole));
  });

  it('takes the code version from the root package when none is given', async () => {
    const root = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(defaultCodeVersion()).toBe(root.version);
    const plain = openLake({ dataDir: data.dir });
    const session = await plain.begin(sessionInit());
    const result = await session.commit({ records: 0, rejected: 0, validation: {} });
    expect(result.manifest.codeVersion).toBe(root.version);
  });

  it('commits the next number for different content and reports unchanged for the same content', async () => {
    const write = async (body: string, runId: string) => {
      const s = await lake.begin(sessionInit({ runId }));
      await s.writeFile('a.csv', `/landing/${runId}/a.csv`, body);
      return s.commit({ records: 1, rejected: 0, validation: {} });
    };
    expect(await write('one', 'r1')).toMatchObject({ status: 'committed', version: 1 });
    expect(await write('two', 'r2')).toMatchObject({ status: 'committed', version: 2 });
    const again = await write('two', 'r3');
    expect(again).toMatchObject({ status: 'unchanged', version: 2 });
    expect(again.manifest.runId).toBe('r2');
    expect(await write('one', 'r4')).toMatchObject({ status: 'committed', version: 3 });
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1, 2, 3]);
    expect(await entriesOf(staging())).toEqual([]);
  });

  it('keeps a version invisible to readers until commit', async () => {
    const first = await lake.begin(sessionInit({ runId: 'r1' }));
    await first.writeFile('a.csv', 'x', 'old');
    await first.commit({ records: 1, rejected: 0, validation: {} });

    const second = await lake.begin(sessionInit({ runId: 'r2' }));
    await second.writeFile('a.csv', 'x', 'new');
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1]);
    expect((await lake.readManifest('clickstream', '2024-03-09'))?.runId).toBe('r1');
    expect(await lake.readManifest('clickstream', '2024-03-09', 2)).toBeUndefined();
    expect((await lake.verify()).ok).toBe(true);
    await second.commit({ records: 1, rejected: 0, validation: {} });
    expect((await lake.readManifest('clickstream', '2024-03-09'))?.runId).toBe('r2');
  });

  it('commits an empty version (a source with nothing that day) once', async () => {
    const a = await (await lake.begin(sessionInit())).commit({ records: 0, rejected: 0, validation: {} });
    const b = await (await lake.begin(sessionInit())).commit({ records: 0, rejected: 0, validation: {} });
    expect([a.status, b.status]).toEqual(['committed', 'unchanged']);
    expect(await treeOf(a.path)).toEqual(['_manifest.json', '_manifest.json.sha256']);
  });
});

describe('session misuse', () => {
  it('refuses a commit while a file is still being written', async () => {
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('a.csv', 'x');
    sink.stream.write('partial');
    await expect(session.commit({ records: 0, rejected: 0, validation: {} })).rejects.toThrow(
      'cannot commit: file "a.csv" is still being written (end it and await its done first)',
    );
    await session.abort();
  });

  it('refuses the same file name twice and a file inside a file', async () => {
    const session = await lake.begin(sessionInit());
    await session.writeFile('a', 'x', '1');
    expect(() => session.createFile('a', 'x')).toThrow('file name "a" was already written in this session');
    expect(() => session.createFile('a/b', 'x')).toThrow('file name "a/b" conflicts with "a" in this session');
    await session.abort();
  });

  it('refuses bad commit counts with the value in the message', async () => {
    const session = await lake.begin(sessionInit());
    await expect(session.commit({ records: -1, rejected: 0, validation: {} })).rejects.toThrow('records must be a whole number from 0, got -1');
    await expect(session.commit({ records: 1, rejected: 0.5, validation: {} })).rejects.toThrow('rejected must be a whole number from 0, got 0.5');
    await session.abort();
  });

  it('refuses work after commit', async () => {
    const session = await lake.begin(sessionInit());
    await session.commit({ records: 0, rejected: 0, validation: {} });
    expect(() => session.createFile('b', 'x')).toThrow(InvalidInputError);
    expect(() => session.createFile('b', 'x')).toThrow('the write session for clickstream 2024-03-09 is already committed');
    await session.abort(); // harmless after commit
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1]);
  });
});

describe('abort and failures leave nothing visible', () => {
  it('abort drops the staging folder and can be called twice', async () => {
    const session = await lake.begin(sessionInit());
    await session.writeFile('a.csv', 'x', 'data');
    expect((await entriesOf(staging())).length).toBe(1);
    await session.abort();
    await session.abort();
    expect(await entriesOf(staging())).toEqual([]);
    expect(await lake.listPartitions('clickstream')).toEqual([]);
    await expect(session.commit({ records: 0, rejected: 0, validation: {} })).rejects.toThrow('is already aborted');
  });

  it('abort also stops a file still being written', async () => {
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('a.csv', 'x');
    sink.stream.write('half a row');
    await session.abort();
    await expect(sink.done).rejects.toThrow('was aborted');
    expect(await entriesOf(staging())).toEqual([]);
  });

  it('an upstream error mid-file publishes nothing; abort cleans up', async () => {
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('a.csv', 'x');
    const upstream = Readable.from(
      (async function* () {
        yield Buffer.from('row 1\n');
        throw new Error('landing file vanished');
      })(),
    );
    await expect(pipeline(upstream, sink.stream)).rejects.toThrow('landing file vanished');
    await expect(sink.done).rejects.toThrow('landing file vanished');
    await expect(session.commit({ records: 0, rejected: 0, validation: {} })).rejects.toThrow(
      'cannot commit: file "a.csv" was not completely written (landing file vanished)',
    );
    await session.abort();
    expect(await treeOf(data.dir)).toEqual(['raw', 'raw/.staging']);
  });
});

describe('quarantine', () => {
  it('moves the staged files byte for byte to quarantine/<source>/<date>/<runId>/ with _reason.json', async () => {
    const bad = Buffer.from('not,the,right,columns\n');
    const session = await lake.begin(sessionInit());
    await session.writeFile('events-000.csv', '/landing/2024-03-09/events-000.csv', bad);
    const { path: where } = await session.quarantine('header does not match the clickstream schema', { missing: ['device'] });

    expect(where).toBe(path.join(data.dir, 'quarantine', 'clickstream', '2024-03-09', 'run-1'));
    expect(await readFile(path.join(where, 'events-000.csv'))).toEqual(bad);
    const reason = JSON.parse(await readFile(path.join(where, '_reason.json'), 'utf8')) as Record<string, unknown>;
    expect(reason).toMatchObject({
      source: 'clickstream',
      date: '2024-03-09',
      runId: 'run-1',
      reason: 'header does not match the clickstream schema',
      details: { missing: ['device'] },
      files: [{ path: 'events-000.csv', bytes: bad.byteLength, sha256: sha(bad), origin: '/landing/2024-03-09/events-000.csv', complete: true }],
    });
    expect(await lake.listPartitions('clickstream')).toEqual([]);
    expect(await entriesOf(staging())).toEqual([]);
    expect(() => session.createFile('x', 'y')).toThrow('is already quarantined');
  });

  it('keeps an earlier quarantine of the same run and lists a file cut short', async () => {
    const first = await lake.begin(sessionInit());
    await first.writeFile('a.csv', 'x', 'first');
    const one = await first.quarantine('bad');
    const second = await lake.begin(sessionInit());
    const sink = second.createFile('a.csv', 'x');
    await new Promise<void>((resolve, reject) => sink.stream.write('partial', (err) => (err ? reject(err) : resolve())));
    const two = await second.quarantine('row too long');
    expect(two.path).toBe(`${one.path}.2`);
    expect(await readFile(path.join(one.path, 'a.csv'), 'utf8')).toBe('first');
    expect(await readFile(path.join(two.path, 'a.csv'), 'utf8')).toBe('partial');
    const reason = JSON.parse(await readFile(path.join(two.path, '_reason.json'), 'utf8')) as { files: unknown[] };
    expect(reason.files).toEqual([{ path: 'a.csv', origin: 'x', bytes: 7, sha256: sha('partial'), complete: false }]);
  });
});
