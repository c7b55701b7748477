import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recomart/jobs';
import { echoInput } from '@recomart/logging';
import { openLake, type Lake } from '@recomart/lake';
import { sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

/** The bad names the issue lists, plus a few more. */
const BAD_SOURCES = ['../x', 'a/b', '%2e%2e', '..\\x', 'a\u0000b', '', 'x'.repeat(65), '/etc', '.staging', 'Upper'];
const BAD_DATES = ['2024-02-30', '2024-2-3', '2023-02-29', '2024-13-01', '', '../2024-01-01', '2024-01-01/../..'];
const BAD_FILES = ['../x', '%2e%2e', '%2e%2e/x', '..\\x', 'a/../../x', 'a\u0000b', '', '/etc/passwd', 'x'.repeat(513), '_manifest.json', '.', 'a//b'];

const data = tempDataDirEach();
let lake: Lake;

beforeEach(async () => {
  lake = openLake({ dataDir: data.dir });
});

/** Asserts the call is refused with InvalidInputError naming `value`, and that the data dir is still empty. */
async function refusedUntouched(call: () => Promise<unknown>, value: string): Promise<void> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${JSON.stringify(value)} to be refused`).toBeInstanceOf(InvalidInputError);
  expect((err as Error).message).toContain(echoInput(value));
  expect((err as Error).message).not.toContain('\n');
  expect(await treeOf(data.dir)).toEqual([]);
}

describe('refused before any file is touched', () => {
  it.each(BAD_SOURCES)('source %j, when writing and reading', async (source) => {
    await refusedUntouched(() => lake.begin(sessionInit({ source })), source);
    await refusedUntouched(() => lake.listPartitions(source), source);
    await refusedUntouched(() => lake.listVersions(source, '2024-03-09'), source);
    await refusedUntouched(() => lake.readManifest(source, '2024-03-09'), source);
    await refusedUntouched(() => lake.openFile(source, '2024-03-09', 1, 'a.csv'), source);
    await refusedUntouched(() => lake.verify({ source }), source);
  });

  it.each(BAD_DATES)('date %j, when writing and reading', async (date) => {
    await refusedUntouched(() => lake.begin(sessionInit({ date })), date);
    await refusedUntouched(() => lake.listVersions('clickstream', date), date);
    await refusedUntouched(() => lake.readManifest('clickstream', date), date);
    await refusedUntouched(() => lake.listPartitions('clickstream', { from: date }), date);
    await refusedUntouched(() => lake.verify({ date }), date);
  });

  it.each(BAD_FILES)('file name %j, when writing and reading', async (name) => {
    const session = await lake.begin(sessionInit());
    await refusedUntouched(async () => session.createFile(name, 'x'), name);
    await refusedUntouched(() => session.writeFile(name, 'x', 'data'), name);
    await refusedUntouched(() => lake.openFile('clickstream', '2024-03-09', 1, name), name);
    await session.abort();
    expect(await treeOf(data.dir)).toEqual([]);
  });

  it.each(['../x', 'a/b', '.hidden', ''])('run id %j (it names the quarantine folder)', async (runId) => {
    await refusedUntouched(() => lake.begin(sessionInit({ runId })), runId);
  });

  it('a bad attempt or job id', async () => {
    await expect(lake.begin(sessionInit({ attempt: -1 }))).rejects.toThrow('attempt must be a whole number from 0, got -1');
    await expect(lake.begin(sessionInit({ jobId: '' }))).rejects.toThrow('jobId must be 1 to 512 characters without control characters, got ""');
    expect(await treeOf(data.dir)).toEqual([]);
  });

  it('a version number below 1 when reading', async () => {
    await expect(lake.readManifest('clickstream', '2024-03-09', 0)).rejects.toThrow('version must be a whole number from 1, got 0');
  });

  it('accepts the longest source name and a file in a sub-folder', async () => {
    const session = await lake.begin(sessionInit({ source: 'x'.repeat(64) }));
    await session.writeFile('pages/0001.json', 'http://127.0.0.1/p?page=1', '{}');
    const result = await session.commit({ records: 0, rejected: 0, validation: {} });
    expect(result.status).toBe('committed');
    expect(await lake.listSources()).toEqual(['x'.repeat(64)]);
  });
});
