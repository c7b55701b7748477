import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateClickstreamDay } from '@recomart/sources';
import { sha256 } from './clickstream-harness.js';

const DATE = '2024-05-01';

describe('generateClickstreamDay', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recomart-generate-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const landing = (name: string) => path.join(dir, name);
  const hashes = async (files: Array<{ path: string }>) => Promise.all(files.map(async (f) => sha256(await readFile(f.path))));

  it('writes the same bytes for the same seed, plain and gzip, and other bytes for another seed', async () => {
    const options = { date: DATE, rows: 20_000, files: 2, seed: 's1', dirty: 0.01 };
    const a = await generateClickstreamDay({ landingDir: landing('a'), ...options });
    const b = await generateClickstreamDay({ landingDir: landing('b'), ...options });
    expect(a.files.map((f) => f.name)).toEqual(['events-000.csv', 'events-001.csv']);
    expect(await hashes(b.files)).toEqual(await hashes(a.files));
    const gz1 = await generateClickstreamDay({ landingDir: landing('c'), ...options, gzip: true });
    const gz2 = await generateClickstreamDay({ landingDir: landing('d'), ...options, gzip: true });
    expect(gz1.files.map((f) => f.name)).toEqual(['events-000.csv.gz', 'events-001.csv.gz']);
    expect(await hashes(gz2.files)).toEqual(await hashes(gz1.files));
    // gzip holds exactly the plain text.
    expect(sha256(gunzipSync(await readFile(gz1.files[0]!.path)))).toBe((await hashes(a.files))[0]);
    const other = await generateClickstreamDay({ landingDir: landing('e'), ...options, seed: 's2' });
    expect((await hashes(other.files))[0]).not.toBe((await hashes(a.files))[0]);
  });

  it('starts each file with the header, leaves no temporary files, and reports sizes and rows', async () => {
    const day = await generateClickstreamDay({ landingDir: dir, date: DATE, rows: 1000 });
    expect(day).toMatchObject({ date: DATE, rows: 1000, folder: path.join(dir, 'clickstream', DATE), removed: [] });
    const text = await readFile(day.files[0]!.path, 'utf8');
    expect(text.split('\n')[0]).toBe('user_id,product_id,event_type,timestamp,device');
    expect(text.split('\n')).toHaveLength(1002);
    expect(day.files[0]!.bytes).toBe(Buffer.byteLength(text));
    // The marker, written last, says the day is complete.
    expect((await readdir(day.folder)).sort()).toEqual(['_SUCCESS', 'events-000.csv']);
  });

  it('replaces its own earlier files of the day and keeps everything else', async () => {
    await generateClickstreamDay({ landingDir: dir, date: DATE, rows: 100, files: 3 });
    const folder = path.join(dir, 'clickstream', DATE);
    await writeFile(path.join(folder, 'partner.csv'), 'x');
    const again = await generateClickstreamDay({ landingDir: dir, date: DATE, rows: 100, files: 1, gzip: true });
    expect(again.removed).toEqual(['events-000.csv', 'events-001.csv', 'events-002.csv']);
    expect((await readdir(folder)).sort()).toEqual(['_SUCCESS', 'events-000.csv.gz', 'partner.csv']);
  });

  it('leaves nothing behind when stopped', async () => {
    const controller = new AbortController();
    const run = generateClickstreamDay({
      landingDir: dir,
      date: DATE,
      rows: 200_000,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stop')),
    });
    await expect(run).rejects.toThrow('stop');
    expect(await readdir(path.join(dir, 'clickstream', DATE))).toEqual([]);
  });

  it('refuses bad options with exact messages', async () => {
    await expect(generateClickstreamDay({ landingDir: dir, date: '2024-02-30' })).rejects.toThrow('date must be a calendar date as YYYY-MM-DD, got "2024-02-30"');
    await expect(generateClickstreamDay({ landingDir: dir, date: DATE, files: 0 })).rejects.toThrow('files must be a whole number from 1 to 1000, got 0');
    await expect(generateClickstreamDay({ landingDir: dir, date: DATE, dirty: 1.5 })).rejects.toThrow('dirty must be a number from 0 to 1, got 1.5');
    await expect(generateClickstreamDay({ landingDir: dir, date: DATE, rows: -1 })).rejects.toThrow('rows must be a whole number from 0, got -1');
  });
});
