import { describe, expect, it } from 'vitest';
import { COMMANDS, runCli } from '@recomart/cli';
import { captureIo } from '../../../test/helpers/capture-io.js';

describe('recomart dispatcher', () => {
  it('--help lists every command and exits 0', async () => {
    const io = captureIo();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const c of COMMANDS) expect(io.out()).toContain(`  ${c.name} `);
  });

  it('no command is bad usage: exit 2, one line on stderr', async () => {
    const io = captureIo();
    expect(await runCli([], io)).toBe(2);
    expect(io.err()).toBe('recomart: missing command (run "recomart --help" for the list)\n');
    expect(io.out()).toBe('');
  });

  it('an unknown command exits 2 with a one-line reason', async () => {
    const io = captureIo();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.err()).toBe('recomart: unknown command "frobnicate" (run "recomart --help" for the list)\n');
  });

  for (const entry of COMMANDS) {
    it(`recomart ${entry.name} --help prints its usage and exits 0`, async () => {
      const io = captureIo();
      expect(await runCli([entry.name, '--help'], io)).toBe(0);
      expect(io.out()).toMatch(new RegExp(`^Usage: recomart ${entry.name}\\b`));
    });
  }

  it('a 5 MB argument is echoed at most 200 characters long, with its length (finding 14)', async () => {
    const huge = 'z'.repeat(5 * 1024 * 1024);
    const cases = [
      ['enqueue', '--source', huge, '--date', '2026-01-01'],
      ['backfill', '--source', 'products', '--from', huge, '--to', '2026-01-02'],
      ['worker', '--concurrency', huge],
      ['worker', '--sources', huge],
      ['enqueue', `--${huge}`, 'x'],
      ['lake', huge],
    ];
    for (const argv of cases) {
      const io = captureIo();
      expect(await runCli(argv, io)).toBe(2);
      expect(io.err(), io.err().slice(0, 300)).toMatch(/\(5,242,88[02] characters\)/);
      expect(io.err().length, io.err().slice(0, 300)).toBeLessThan(800);
    }
  });

  it('an unknown flag is bad usage: exit 2, one line', async () => {
    const io = captureIo();
    expect(await runCli(['enqueue', '--sauce', 'x'], io)).toBe(2);
    expect(io.err().trim().split('\n')).toHaveLength(1);
    expect(io.err()).toContain("Unknown option '--sauce'");
  });

  it('a bad date is bad input: exit 2 with the exact reason, before touching Redis', async () => {
    const io = captureIo({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await runCli(['enqueue', '--source', 'clickstream', '--date', '2024-02-30'], io)).toBe(2);
    expect(io.err()).toBe('recomart enqueue: --date must be a calendar date as YYYY-MM-DD, got "2024-02-30"\n');
  });

  it('an unknown source is bad input: exit 2', async () => {
    const io = captureIo();
    expect(await runCli(['backfill', '--source', '../../etc', '--from', '2024-01-01', '--to', '2024-01-02'], io)).toBe(2);
    expect(io.err()).toBe('recomart backfill: --source must be one of clickstream, products, all, got "../../etc"\n');
  });

  it('a bad environment variable is bad input: exit 2 with its exact message', async () => {
    const io = captureIo({ REDIS_URL: 'localhost' });
    expect(await runCli(['status'], io)).toBe(2);
    expect(io.err()).toBe('recomart status: REDIS_URL must be a redis:// or rediss:// URL, got "localhost"\n');
  });

  it('an unreachable Redis is a failure (exit 1) with the instruction', async () => {
    const io = captureIo({ REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await runCli(['status'], io)).toBe(1);
    expect(io.err()).toBe(
      'recomart status: cannot reach Redis at redis://127.0.0.1:1 (ECONNREFUSED): start it with "docker compose up -d redis" or set REDIS_URL\n',
    );
  });
});
