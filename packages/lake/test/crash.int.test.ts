import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLake } from '@recomart/lake';
import { entriesOf, tempDataDir } from './temp-lake.js';
import { assertLakeBuilt, startWriter, type WriterRun } from './writer-process.js';
import { seededRandom } from '../../../test/helpers/seeded-random.js';

/** Kills per run of this test (the "many times", scaled to stay fast). */
const KILLS = 32;
const FILES = 8;
const FILE_BYTES = 512 * 1024;


const SEED = Number(process.env.LAKE_CRASH_SEED ?? Date.now() % 1_000_000);

let data: Awaited<ReturnType<typeof tempDataDir>>;

beforeAll(async () => {
  assertLakeBuilt();
  data = await tempDataDir('lake-crash-');
});

afterAll(async () => {
  await data?.remove();
});

describe(`a writer SIGKILLed at random points (seed ${SEED}, LAKE_CRASH_SEED to replay)`, () => {
  it(`${KILLS} kills leave a lake that verifies, shows no partial version, and takes the next version`, async () => {
    const rnd = seededRandom(SEED);
    const writer = { dataDir: data.dir, files: FILES, fileBytes: FILE_BYTES, traceFs: true };
    // One undisturbed run learns the steps: every chunk, every filesystem call of staging and commit.
    const probe = await startWriter({ ...writer, seed: 1 }).finished;
    expect(probe.result, probe.stderr).toEqual({ status: 'committed', version: 1 });
    const steps = probe.lines.length;
    const commitStart = probe.lines.indexOf('committing') + 1;
    const runs: WriterRun[] = [probe];
    for (let i = 1; i <= KILLS; i++) {
      // Half the kills land among the commit's steps (fsyncs, manifest, rename), the rest anywhere.
      const killAfterLines =
        rnd() < 0.5 ? commitStart + Math.floor(rnd() * (steps - commitStart)) : Math.floor(rnd() * (steps + 2));
      const run = await startWriter({ ...writer, seed: i + 1, killAfterLines }).finished;
      if (run.signal !== 'SIGKILL') expect(run, `writer ${i + 1} ended on its own: ${run.stderr}`).toMatchObject({ code: 0 });
      runs.push(run);
    }
    const killed = runs.filter((r) => r.signal === 'SIGKILL').length;
    expect(killed).toBeGreaterThan(KILLS / 2);
    expect(runs.filter((r) => r.signal === 'SIGKILL' && r.lines.includes('committing')).length).toBeGreaterThan(KILLS / 4);

    const lake = openLake({ dataDir: data.dir, now: () => new Date(Date.now() + 24 * 3_600_000) });
    const report = await lake.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);

    // Every v<N> folder is a complete, visible version; numbers are 1..K with no gaps.
    const partition = path.join(data.dir, 'raw', 'clickstream', '2024', '03', '09');
    const versions = await lake.listVersions('clickstream', '2024-03-09');
    const folders = (await entriesOf(partition)).filter((n) => n.startsWith('v'));
    expect(folders.sort()).toEqual(versions.map((v) => `v${v}`).sort());
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    for (const v of versions) {
      const m = await lake.readManifest('clickstream', '2024-03-09', v);
      expect(m?.files.map((f) => f.bytes)).toEqual(Array.from({ length: FILES }, () => FILE_BYTES));
      expect((await readdir(path.join(partition, `v${v}`), { recursive: true })).filter((n) => n.includes('.'))).toHaveLength(FILES + 2); // the files, _manifest.json and its _manifest.json.sha256
    }
    // What a writer reported as committed is there.
    for (const r of runs) if (r.result) expect(versions).toContain(r.result.version);

    // The sweeper clears the leftovers of the killed writers, and nothing committed changes.
    const leftovers = await entriesOf(path.join(data.dir, 'raw', '.staging'));
    const swept = await lake.sweep(0);
    expect(swept.removed).toHaveLength(leftovers.length);
    expect(await entriesOf(path.join(data.dir, 'raw', '.staging'))).toEqual([]);
    expect((await lake.verify()).ok).toBe(true);
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual(versions);

    // A new write commits the next version.
    const next = await startWriter({ dataDir: data.dir, seed: 10_000, files: 2, fileBytes: 4096 }).finished;
    expect(next.stderr).toBe('');
    expect(next.result).toEqual({ status: 'committed', version: versions.length + 1 });
    expect((await lake.verify()).ok).toBe(true);
  });
});
