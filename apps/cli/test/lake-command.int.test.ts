import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '@recomart/command';
import { InvalidInputError } from '@recomart/jobs';
import { openLake, type Lake } from '@recomart/lake';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { runRecomart } from '../../../test/helpers/run-cli.js';
import { lakeCommand } from '../src/commands/lake.js';
import { runCli } from '../src/main.js';

let data: { dir: string };
let lake: Lake;

beforeEach(async () => {
  data = { dir: await mkdtemp(path.join(tmpdir(), 'lake-cli-')) };
  lake = openLake({ dataDir: data.dir, codeVersion: '9.9.9' });
});

afterEach(async () => {
  await rm(data.dir, { recursive: true, force: true });
});

async function commit(source: string, date: string, files: Record<string, string>, runId = 'run-1'): Promise<string> {
  const session = await lake.begin({ source, date, runId, jobId: `${source}__${date}`, attempt: 1 });
  for (const [name, body] of Object.entries(files)) await session.writeFile(name, `/landing/${name}`, body);
  return (await session.commit({ records: 10, rejected: 1, validation: { ok: true } })).path;
}

async function run(...argv: string[]) {
  const io = captureIo({ DATA_DIR: data.dir });
  const code = await lakeCommand.run(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('recomart lake ls', () => {
  it('lists partitions with their latest version, as a table or JSON', async () => {
    await commit('clickstream', '2024-01-01', { 'a.csv': 'one' });
    await commit('clickstream', '2024-01-02', { 'a.csv': 'two' });
    await commit('clickstream', '2024-01-02', { 'a.csv': 'three' }, 'run-2');
    await commit('products', '2024-01-02', { 'pages/0001.json': '{}' });

    const table = await run('ls');
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^SOURCE\s+DATE\s+VERSIONS\s+LATEST\s+FILES\s+BYTES\s+RECORDS\s+REJECTED\s+COMMITTED$/);
    expect(table.out).toMatch(/clickstream\s+2024-01-02\s+2\s+v2\s+1\s+5 B\s+10\s+1\s/);
    expect(table.out).toMatch(/products\s+2024-01-02\s+1\s+v1/);

    const json = await run('ls', '--source', 'clickstream', '--from', '2024-01-02', '--to', '2024-01-31', '--json');
    expect(JSON.parse(json.out)).toEqual({
      partitions: [
        {
          source: 'clickstream',
          date: '2024-01-02',
          versions: [1, 2],
          latest: { version: 2, files: 1, bytes: 5, records: 10, rejected: 1, committedAt: expect.any(String) as unknown },
        },
      ],
    });
  });

  it('says so when nothing is committed', async () => {
    expect(await run('ls', '--source', 'clickstream')).toEqual({ code: 0, out: 'no committed partitions of clickstream\n', err: '' });
  });

  it('refuses bad dates and names with the value', async () => {
    await expect(run('ls', '--from', '2024-2-3')).rejects.toThrow('--from must be a calendar date as YYYY-MM-DD, got "2024-2-3"');
    await expect(run('ls', '--source', '../x')).rejects.toThrow(InvalidInputError);
    await expect(run('ls', '--from', '2024-02-03', '--to', '2024-02-01')).rejects.toThrow('--from 2024-02-03 is after --to 2024-02-01');
  });
});

describe('recomart lake show', () => {
  it('prints the latest or a given manifest', async () => {
    await commit('clickstream', '2024-01-02', { 'a.csv': 'one' });
    const v2 = await commit('clickstream', '2024-01-02', { 'a.csv': 'two', 'b.csv': 'x' }, 'run-2');

    const json = await run('show', '--source', 'clickstream', '--date', '2024-01-02', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual(JSON.parse(await readFile(path.join(v2, '_manifest.json'), 'utf8')));

    const text = await run('show', '--source', 'clickstream', '--date', '2024-01-02', '--version', '1');
    expect(text.out).toContain('clickstream 2024-01-02 v1 (versions: v1, v2)');
    expect(text.out).toContain('run         run-1 (job clickstream__2024-01-02, attempt 1)');
    expect(text.out).toContain('code        9.9.9');
    expect(text.out).toMatch(/[0-9a-f]{64}\s+3 {2}a\.csv {2}<- \/landing\/a\.csv/);
  });

  it('exits 1 when there is no such version, and needs --source and --date', async () => {
    expect(await run('show', '--source', 'clickstream', '--date', '2024-01-02')).toEqual({
      code: 1,
      out: '',
      err: 'recomart lake show: clickstream 2024-01-02 has no committed version\n',
    });
    await expect(run('show', '--date', '2024-01-02')).rejects.toThrow(new UsageError('lake show: --source is required'));
    await expect(run('show', '--source', 'clickstream', '--date', '2024-01-02', '--version', '0')).rejects.toThrow(
      '--version must be a whole number from 1 to 9007199254740991, got "0"',
    );
  });
});

describe('recomart lake current', () => {
  it('after a reprocess names only the new version and its files, as file: URIs', async () => {
    await commit('clickstream', '2024-01-01', { 'a.csv': 'one' });
    const old = await commit('clickstream', '2024-01-02', { 'a.csv': 'two', 'b.csv': 'old' });
    const reprocessed = await commit('clickstream', '2024-01-02', { 'a.csv': 'three' }, 'run-2');
    await commit('products', '2024-01-02', { 'pages/0001.json': '{}' });

    const json = await run('current', '--source', 'clickstream', '--json');
    expect(json.code).toBe(0);
    const uri = (dir: string, file: string) => pathToFileURL(path.join(dir, file)).href;
    const parsed = JSON.parse(json.out) as { source: string; partitions: Array<{ date: string; version: number; manifest: string; files: Array<{ path: string; uri: string }> }> };
    expect(parsed.source).toBe('clickstream');
    expect(parsed.partitions.map((p) => [p.date, p.version])).toEqual([['2024-01-01', 1], ['2024-01-02', 2]]);
    const day = parsed.partitions[1];
    expect(day).toMatchObject({ manifest: uri(reprocessed, '_manifest.json'), records: 10, rejected: 1, files: [{ path: 'a.csv', uri: uri(reprocessed, 'a.csv'), bytes: 5 }] });
    expect(json.out).not.toContain(old);
    expect(await readFile(fileURLToPath(day?.files[0]?.uri ?? ''), 'utf8')).toBe('three');

    const text = await run('current', '--source', 'clickstream', '--from', '2024-01-02', '--to', '2024-01-02');
    expect(text.out).toBe(`2024-01-02  v2  records 10  rejected 1  ${uri(reprocessed, '_manifest.json')}\n  ${uri(reprocessed, 'a.csv')}\n`);
    expect(await run('current', '--source', 'clickstream', '--from', '2024-02-01')).toEqual({ code: 0, out: 'no committed partitions of clickstream from 2024-02-01 to the end\n', err: '' });
    await expect(run('current')).rejects.toThrow(new UsageError('lake current: --source is required'));
  });
});

describe('recomart lake verify', () => {
  it('exits 0 when everything verifies and 1 with each problem and its path otherwise', async () => {
    const dir = await commit('clickstream', '2024-01-02', { 'a.csv': 'abcdef', 'b.csv': 'ok' });
    expect(await run('verify')).toEqual({ code: 0, out: 'verified 1 version, 2 files: ok\n', err: '' });

    await writeFile(path.join(dir, 'a.csv'), 'abcdeF');
    const bad = await run('verify', '--source', 'clickstream', '--date', '2024-01-02');
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`corrupt       ${path.join(dir, 'a.csv')}  sha256 `);
    expect(bad.out).toContain('verified 1 version, 2 files: 1 problem\n');
    expect(await readFile(path.join(dir, 'a.csv'), 'utf8')).toBe('abcdeF');

    const json = await run('verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, problems: [{ kind: 'corrupt', path: path.join(dir, 'a.csv') }] });
  });
});

describe('recomart lake sweep', () => {
  it('removes staging leftovers older than --max-age-ms, by default LAKE_STAGING_MAX_AGE_MS (6 h)', async () => {
    await commit('clickstream', '2024-01-02', { 'a.csv': 'kept' });
    const leftover = path.join(data.dir, 'raw', '.staging', 'dead-writer');
    await mkdir(leftover, { recursive: true });
    await writeFile(path.join(leftover, 'half.csv'), 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(path.join(leftover, 'half.csv'), twoHoursAgo, twoHoursAgo);
    await utimes(leftover, twoHoursAgo, twoHoursAgo);

    expect(await run('sweep')).toEqual({ code: 0, out: 'swept staging leftovers older than 21600000 ms: removed 0, kept 1\n', err: '' });
    const io = captureIo({ DATA_DIR: data.dir, LAKE_STAGING_MAX_AGE_MS: '3600000' });
    expect(await lakeCommand.run(['sweep', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual({ maxAgeMs: 3_600_000, removed: [leftover], kept: 0 });
    expect((await run('verify')).code).toBe(0);
    await expect(run('sweep', '--max-age-ms', '-1')).rejects.toThrow(UsageError);
  });
});

describe('usage', () => {
  it('prints help for the command and each subcommand', async () => {
    expect((await run('--help')).out).toContain('Usage: recomart lake <ls|show|current|verify|sweep|watch> [options]');
    for (const sub of ['ls', 'show', 'current', 'verify', 'sweep', 'watch']) {
      const r = await run(sub, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`Usage: recomart lake ${sub}`);
    }
  });

  it('refuses a missing or unknown subcommand and unknown flags', async () => {
    await expect(run()).rejects.toThrow('lake: a subcommand is required: ls, show, current, verify, sweep or watch');
    await expect(run('repair')).rejects.toThrow('lake: unknown subcommand "repair" (use ls, show, current, verify, sweep or watch)');
    await expect(run('verify', '--fix')).rejects.toThrow(UsageError);
  });

  it('maps bad usage and bad input to exit 2 through the dispatcher', async () => {
    const io = captureIo({ DATA_DIR: data.dir });
    expect(await runCli(['lake', 'verify', '--date', '2024-02-30'], io)).toBe(2);
    expect(io.err()).toBe('recomart lake: --date must be a calendar date as YYYY-MM-DD, got "2024-02-30"\n');
  });
});

describe('the recomart process', () => {
  it('`node bin/recomart.js lake verify` exits 0 on a sound lake and 1 naming a flipped byte', async () => {
    const dir = await commit('clickstream', '2024-01-02', { 'a.csv': 'abcdef' });
    const good = await runRecomart(['lake', 'verify'], { DATA_DIR: data.dir });
    expect(good).toEqual({ code: 0, stdout: 'verified 1 version, 1 file: ok\n', stderr: '' });
    await writeFile(path.join(dir, 'a.csv'), 'abcdeg');
    const bad = await runRecomart(['lake', 'verify'], { DATA_DIR: data.dir });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(path.join(dir, 'a.csv'));
  });
});
