import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canUnshareNet, IN_EMPTY_NETNS } from '../../../test/helpers/netns.js';
import { afterAll, describe, expect, it } from 'vitest';
import { runRecomart } from '../../../test/helpers/run-cli.js';


describe('the recomart process', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('npx-style `recomart --help` works from the built bin', async () => {
    const r = await runRecomart(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: recomart <command>');
  });

  it('bad usage exits 2 with one line on stderr', async () => {
    const r = await runRecomart(['backfill', '--source', 'clickstream', '--from', '2024-2-3', '--to', '2024-02-05']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('recomart backfill: --from must be a calendar date as YYYY-MM-DD, got "2024-2-3"\n');
  });

  it('a malformed REDIS_URL or PRODUCTS_API_URL exits 2 naming it, never printing its password (finding 10)', async () => {
    const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
      [{ REDIS_URL: 'redis//:Pa55-typo@127.0.0.1:6379' }, 'REDIS_URL must be a redis:// or rediss:// URL, got "redis//[REDACTED]@127.0.0.1:6379"'],
      [{ REDIS_URL: 'redis://:pw%zz@127.0.0.1:6379' }, 'REDIS_URL must be a redis:// or rediss:// URL whose user and password are percent-encoded (write "%" as "%25"), got "redis://[REDACTED]@127.0.0.1:6379"'],
      [{ PRODUCTS_API_URL: 'http://user:Pa55word@[::1/products' }, 'PRODUCTS_API_URL must be an http:// or https:// URL, got "http://[REDACTED]@[::1/products"'],
    ];
    const results = await Promise.all(cases.map(([env]) => runRecomart(['status'], { ...env, DATA_DIR: dataDir })));
    for (const [k, r] of results.entries()) {
      const [, message] = cases[k] as readonly [Record<string, string>, string];
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: `recomart status: ${message}\n` });
      expect(r.stderr + r.stdout).not.toMatch(/Pa55|pw%zz/);
    }
  });

  // "Redis stopped": a network namespace of its own where nothing listens on
  // 127.0.0.1:6379, and a PATH without redis-server.
  it.runIf(canUnshareNet())('npm start with no Redis and no redis-server prints the instruction and exits 1 within 5 s', async () => {
    const started = Date.now();
    // A PATH with node and nothing else (node's own folder may hold redis-server too).
    const nodeDir = mkdtempSync(path.join(tmpdir(), 'recomart-path-'));
    symlinkSync(process.execPath, path.join(nodeDir, 'node'));
    const r = await runRecomart(['start'], { PATH: nodeDir, DATA_DIR: dataDir }, { wrap: IN_EMPTY_NETNS, timeoutMs: 20_000 });
    const elapsed = Date.now() - started;
    rmSync(nodeDir, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'recomart start: cannot reach Redis at redis://127.0.0.1:6379 (ECONNREFUSED): start it with "docker compose up -d redis" or set REDIS_URL\n',
    );
    expect(elapsed).toBeLessThan(5000);
  });
});
