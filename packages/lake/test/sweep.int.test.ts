import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { entriesOf, sessionInit, tempDataDirEach } from './temp-lake.js';

const HOUR = 3_600_000;

const data = tempDataDirEach();
let clock: number;
const now = () => new Date(clock);

beforeEach(async () => {
  clock = Date.now();
});

describe('sweep', () => {
  it('removes staging leftovers older than the age, keeps younger ones and never touches committed versions', async () => {
    const lake = openLake({ dataDir: data.dir, now });
    const committed = await lake.begin(sessionInit());
    await committed.writeFile('a.csv', 'x', 'kept');
    const version = await committed.commit({ records: 1, rejected: 0, validation: {} });

    // A writer that died mid-write (another lake instance = another process).
    const dead = await openLake({ dataDir: data.dir }).begin(sessionInit({ runId: 'dead' }));
    await dead.writeFile('half.csv', 'x', 'half');
    const staging = path.join(data.dir, 'raw', '.staging');
    const [leftover] = await readdir(staging);

    expect(await lake.sweep(HOUR)).toEqual({ removed: [], kept: 1 });
    clock += 2 * HOUR;
    expect(await lake.sweep(HOUR)).toEqual({ removed: [path.join(staging, leftover as string)], kept: 0 });
    expect(await entriesOf(staging)).toEqual([]);
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1]);
    expect(await entriesOf(version.path)).toEqual(['_manifest.json', '_manifest.json.sha256', 'a.csv']);
    expect((await lake.verify()).ok).toBe(true);
  });

  it('leaves the open sessions of its own lake alone, even with age 0', async () => {
    const lake = openLake({ dataDir: data.dir, now });
    const live = await lake.begin(sessionInit());
    await live.writeFile('a.csv', 'x', 'in progress');
    clock += 10 * HOUR;
    expect(await lake.sweep(0)).toEqual({ removed: [], kept: 1 });
    expect((await live.commit({ records: 1, rejected: 0, validation: {} })).status).toBe('committed');
  });

  it('judges age by the newest file, so a slow writer still writing is kept', async () => {
    const staging = path.join(data.dir, 'raw', '.staging', 'old-but-busy');
    await mkdir(path.join(staging, 'pages'), { recursive: true });
    await writeFile(path.join(staging, 'pages', '0001.json'), '{}');
    const old = new Date(clock - 3 * HOUR);
    await utimes(path.join(staging, 'pages'), old, old);
    await utimes(staging, old, old);
    const lake = openLake({ dataDir: data.dir, now });
    expect(await lake.sweep(HOUR)).toEqual({ removed: [], kept: 1 });
    clock += 2 * HOUR;
    expect(await lake.sweep(HOUR)).toEqual({ removed: [staging], kept: 0 });
  });

  it('removes what a sweep that died mid-removal left, and refuses a bad age', async () => {
    const tomb = path.join(data.dir, 'raw', '.staging', '~swept-abc-1234');
    await mkdir(tomb, { recursive: true });
    const lake = openLake({ dataDir: data.dir, now });
    expect(await lake.sweep(HOUR)).toEqual({ removed: [tomb], kept: 0 });
    await expect(lake.sweep(-1)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(lake.sweep(-1)).rejects.toThrow('sweep max age must be a whole number of milliseconds from 0, got -1');
  });

  it('does nothing on an empty lake', async () => {
    expect(await openLake({ dataDir: data.dir }).sweep(0)).toEqual({ removed: [], kept: 0 });
  });
});
