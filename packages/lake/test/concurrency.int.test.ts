import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, openLake, type Lake, type WriteSession } from '@recomart/lake';
import { entriesOf, sessionInit, tempDataDirEach } from './temp-lake.js';
import { assertLakeBuilt, startWriter } from './writer-process.js';

const WRITERS = 20;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const data = tempDataDirEach('lake-race-');
let lake: Lake;

beforeEach(async () => {
  lake = openLake({ dataDir: data.dir });
  lostRaces = 0;
});

/** Publishing renames that found their version number taken (the lost-race path). */
let lostRaces = 0;
const countingRename = async (from: string, to: string): Promise<void> => {
  try {
    await nodeFileSystem.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') lostRaces += 1;
    throw err;
  }
};

/** Stages `files` in a new session of its own lake instance (as a separate worker would). */
async function staged(runId: string, files: Record<string, string>): Promise<WriteSession> {
  const session = await openLake({ dataDir: data.dir, fileSystem: { rename: countingRename } }).begin(sessionInit({ runId, jobId: runId }));
  await Promise.all(Object.entries(files).map(([name, body]) => session.writeFile(name, `/landing/${name}`, body)));
  return session;
}

const staging = () => path.join(data.dir, 'raw', '.staging');

describe(`${WRITERS} concurrent writers to one partition`, () => {
  it('of identical content commit exactly one version; the others learn it is unchanged', async () => {
    const files = { 'events-000.csv': 'u1,p1,view\n', 'events-001.csv': 'u2,p2,click\n', 'pages/0001.json': '{"items":[]}' };
    const sessions = await Promise.all(Array.from({ length: WRITERS }, (_, i) => staged(`run-${i}`, files)));
    const results = await Promise.all(sessions.map((s) => s.commit({ records: 2, rejected: 0, validation: {} })));

    expect(results.filter((r) => r.status === 'committed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'unchanged')).toHaveLength(WRITERS - 1);
    expect(lostRaces).toBeGreaterThan(0); // they really collided: the losers re-read and found it unchanged
    expect(new Set(results.map((r) => r.version))).toEqual(new Set([1]));
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1]);
    expect(await entriesOf(path.join(data.dir, 'raw', 'clickstream', '2024', '03', '09'))).toEqual(['v1']);
    expect(await entriesOf(staging())).toEqual([]);
    expect((await lake.verify()).ok).toBe(true);
  });

  it('of different content commit that many complete versions with distinct numbers, files never mixed', async () => {
    const bodyOf = (i: number, f: number) => `writer ${i} file ${f}\n`.repeat(100 + i);
    const sessions = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => staged(`run-${i}`, { 'a.csv': bodyOf(i, 0), 'b/c.csv': bodyOf(i, 1) })),
    );
    const results = await Promise.all(sessions.map((s, i) => s.commit({ records: i, rejected: 0, validation: { writer: i } })));

    expect(results.every((r) => r.status === 'committed')).toBe(true);
    expect(lostRaces).toBeGreaterThan(0); // the writers really did collide and retried
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    for (const [i, r] of results.entries()) {
      const m = await lake.readManifest('clickstream', '2024-03-09', r.version);
      expect(m).toMatchObject({ runId: `run-${i}`, records: i, validation: { writer: i } });
      expect(m?.files.map((f) => [f.path, f.sha256])).toEqual([
        ['a.csv', sha(bodyOf(i, 0))],
        ['b/c.csv', sha(bodyOf(i, 1))],
      ]);
    }
    expect(await entriesOf(staging())).toEqual([]);
    expect((await lake.verify()).ok).toBe(true);
  });

  it('in separate processes: identical content commits once, different content commits one version each', async () => {
    assertLakeBuilt();
    const release = async (seeds: number[]) => {
      const writers = seeds.map((seed, i) => startWriter({ dataDir: data.dir, seed, files: 3, fileBytes: 100_000, waitGo: true, runId: `proc-${seed}-${i}` }));
      await Promise.all(writers.map((w) => w.staged));
      for (const w of writers) w.go(); // all commit at once
      const runs = await Promise.all(writers.map((w) => w.finished));
      for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 });
      return runs.map((r) => r.result);
    };

    const same = await release([7, 7, 7, 7]);
    expect(same.filter((r) => r?.status === 'committed')).toHaveLength(1);
    expect(same.filter((r) => r?.status === 'unchanged')).toHaveLength(3);
    expect(same.every((r) => r?.version === 1)).toBe(true);

    const different = await release([11, 12, 13, 14]);
    expect(different.every((r) => r?.status === 'committed')).toBe(true);
    expect(different.map((r) => r?.version).sort()).toEqual([2, 3, 4, 5]);
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([1, 2, 3, 4, 5]);
    expect((await lake.verify()).ok).toBe(true);
  });
});
