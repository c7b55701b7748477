import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '@recomart/cli';
import { captureIo } from '../../../test/helpers/capture-io.js';

describe('recomart generate', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'recomart-generate-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes each day of the range into the landing zone and says so on stdout', async () => {
    const io = captureIo({ LANDING_DIR: dir });
    const code = await runCli(['generate', '--from', '2024-05-01', '--to', '2024-05-02', '--rows-per-day', '3000', '--files-per-day', '2', '--gzip', '--seed', 'cli'], io);
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^2024-05-01: 3000 rows in 2 files, \\d+\\.\\d MB → ${path.join(dir, 'clickstream', '2024-05-01')}$`));
    for (const day of ['2024-05-01', '2024-05-02']) {
      expect((await readdir(path.join(dir, 'clickstream', day))).sort()).toEqual(['_SUCCESS', 'events-000.csv.gz', 'events-001.csv.gz']);
    }
  });

  it('prints JSON with --json and writes the same bytes for the same seed', async () => {
    const run = async (sub: string) => {
      const io = captureIo({ LANDING_DIR: path.join(dir, sub) });
      expect(await runCli(['generate', '--from', '2024-05-01', '--to', '2024-05-01', '--rows-per-day', '2000', '--seed', 'same', '--dirty', '0.05', '--json'], io)).toBe(0);
      return JSON.parse(io.out()) as { days: Array<{ date: string; rows: number; files: Array<{ path: string; bytes: number }> }> };
    };
    const a = await run('a');
    const b = await run('b');
    expect(a.days).toHaveLength(1);
    expect(a.days[0]).toMatchObject({ date: '2024-05-01', rows: 2000 });
    expect(await readFile(a.days[0]!.files[0]!.path)).toEqual(await readFile(b.days[0]!.files[0]!.path));
  });

  it('refuses bad flags and dates with exit 2 and one exact line', async () => {
    const cases: Array<[string[], string]> = [
      [['--from', '2024-05-01'], 'recomart generate: generate needs --from and --to (YYYY-MM-DD)\n'],
      [['--from', '2024-05-01', '--to', '2024-05-01', '--dirty', '2'], 'recomart generate: --dirty must be a number from 0 to 1, got "2"\n'],
      [['--from', '2024-05-01', '--to', '2024-05-01', '--files-per-day', '0'], 'recomart generate: --files-per-day must be a whole number from 1 to 1000, got "0"\n'],
      [['--from', '2024-05-01', '--to', '2024-05-01', '--rows-per-day', 'lots'], 'recomart generate: --rows-per-day must be a whole number from 0 to 100000000, got "lots"\n'],
      [['--from', '2024-02-30', '--to', '2024-03-01'], 'recomart generate: --from must be a calendar date as YYYY-MM-DD, got "2024-02-30"\n'],
      [['--from', '2024-05-02', '--to', '2024-05-01'], 'recomart generate: --from 2024-05-02 is after --to 2024-05-01\n'],
    ];
    for (const [args, message] of cases) {
      const io = captureIo({ LANDING_DIR: dir });
      expect(await runCli(['generate', ...args], io), args.join(' ')).toBe(2);
      expect(io.err()).toBe(message);
    }
    expect(await readdir(dir)).toEqual([]);
  });
});
