import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { canUnshareNet, IN_EMPTY_NETNS } from '../../../test/helpers/netns.js';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Redis } from 'ioredis';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { BIN, ROOT } from '../../../test/helpers/run-cli.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';


interface Stack {
  lines: string[];
  waitFor(pattern: RegExp): Promise<string>;
  interrupt(): Promise<{ code: number | null; ms: number }>;
}

/** Runs `recomart start …` (optionally wrapped), collecting its prefixed lines. */
function runStack(args: string[], env: Record<string, string>, wrap: string[] = []): Stack {
  const command = wrap.length > 0 ? (wrap[0] as string) : process.execPath;
  const argv = wrap.length > 0 ? [...wrap.slice(1), process.execPath, BIN, 'start', ...args] : [BIN, 'start', ...args];
  const child = spawn(command, argv, { cwd: ROOT, env: { HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  const onData = (d: Buffer) => {
    for (const line of d.toString().split('\n').filter(Boolean)) {
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    lines,
    waitFor: (pattern) => {
      const hit = lines.find((l) => pattern.test(l));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`stack exited before ${pattern}: ${lines.slice(-20).join('\n')}`)));
      });
    },
    interrupt: async () => {
      const t0 = Date.now();
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return { code, ms: Date.now() - t0 };
    },
  };
}

describe('recomart start', () => {
  let t: TestEnv;
  let api: MockApiHandle;
  let redis: Redis;

  beforeAll(async () => {
    api = await startMockProductApi({ port: 0, products: 150 });
    t = makeTestEnv('start', { PRODUCTS_API_URL: api.url, CATCH_UP_DAYS: '2', BOARD_PORT: '0', WORKER_HTTP_PORT: '0', BOARD_USER: 'ops', BOARD_PASSWORD: 'start-test-pw' });
    redis = new Redis(t.config.redisUrl);
  });
  afterAll(async () => {
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    await api.close();
    t.cleanup();
  });

  it('brings up every part with a name prefix, ingests by catch-up, and stops cleanly on Ctrl-C within 10 s', async () => {
    const stack = runStack(['--demo'], { ...t.env, PATH: process.env.PATH ?? '' });
    await stack.waitFor(/^\[start\] running audit, scheduler, board, worker-1; Ctrl-C stops everything$/);
    await stack.waitFor(/^\[board\]\s+recomart board: listening on http:\/\/127\.0\.0\.1:\d+\//);
    await stack.waitFor(/^\[scheduler\]\s+daily-clickstream: "0 2 \* \* \*" UTC/);
    // The workers run with the image's node flags (WORKER_NODE_FLAGS), not only the parent.
    const starting = await stack.waitFor(/^\[worker-1\]\s+\{.*"event":"worker-starting"/);
    expect(starting).toContain('"nodeFlags":["--max-semi-space-size=4"]');
    // Catch-up ingests the generated clickstream and the mock's products.
    await stack.waitFor(/^\[worker-1\]\s+\{.*"source":"clickstream".*"event":"committed"/);
    await stack.waitFor(/^\[worker-1\]\s+\{.*"source":"products".*"event":"committed"/);
    const { code, ms } = await stack.interrupt();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(stack.lines.join('\n')).toContain('[worker-1]  {');
    expect(stack.lines.join('\n')).not.toContain('start-test-pw');
    expect(stack.lines.some((l) => /"event":"worker-stopped"/.test(l))).toBe(true);
  });

  // On a terminal the parts write one human line an event. `script` gives the
  // stack a pseudo-terminal; Ctrl-C is typed into it, as a person would.
  it('on a terminal, prints a status block and one human line an event instead of JSON', async () => {
    // `exec`: script runs the command through $SHELL -c, and a shell left waiting in the
    // terminal's foreground group would take the Ctrl-C itself (dash exits 130).
    const command = `exec ${[process.execPath, BIN, 'start', '--demo'].map((a) => `'${a}'`).join(' ')}`;
    // A lake and queue prefix of its own: the first test already ingested its days.
    const own = makeTestEnv('start-tty', { PRODUCTS_API_URL: api.url, CATCH_UP_DAYS: '2', BOARD_PORT: '0', WORKER_HTTP_PORT: '0', BOARD_USER: 'ops', BOARD_PASSWORD: 'start-test-pw' });
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: ROOT, env: { HOME: process.env.HOME ?? '/root', ...own.env, PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let buffered = '';
    const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.replace(/\r$/, '');
        lines.push(line);
        for (const w of [...waiters]) if (w.pattern.test(line)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(line));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Also after a timeout: killing `script` closes the terminal, the stack gets SIGHUP and its parts follow it.
    onTestFinished(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await dropPrefix(redis, own.prefix);
      own.cleanup();
    });
    const waitFor = (pattern: RegExp) =>
      lines.find((l) => pattern.test(l)) ??
      new Promise<string>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`stack exited before ${pattern}:\n${lines.slice(-30).join('\n')}`)));
      });
    {
      await waitFor(/^\[start\] board: http:\/\/127\.0\.0\.1:\d+\/ \(user and password from BOARD_USER and BOARD_PASSWORD\)$/);
      await waitFor(/^\[start\] lake: .*\/raw {3}landing zone: /);
      await waitFor(/^\[start\] running .*; Ctrl-C stops everything$/);
      // 11:00:37 clickstream 2026-11-29 committed v1 · 20,000 rows · 0 rejected · 158 ms, coloured time
      const committed = await waitFor(/^\[worker-1\]\s+.*clickstream \d{4}-\d\d-\d\d committed v1 · 20,000 rows · 0 rejected · [\d,]+ ms/);
      expect(committed.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/^\[worker-1\]\s+\d\d:\d\d:\d\d clickstream /);
      await waitFor(/^\[worker-1\]\s+.*products \d{4}-\d\d-\d\d committed v1 · 150 records/);
      child.stdin.write('\u0003'); // Ctrl-C at the terminal
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      expect(code, `exit ${code}; last lines:\n${lines.slice(-30).join('\n')}`).toBe(0);
      const parts = lines.filter((l) => /^\[(worker-1|scheduler|audit|board)\]/.test(l));
      const json = parts.filter((l) => /^\[[\w-]+\]\s+\{/.test(l));
      expect(json, `JSON lines on a terminal:\n${json.slice(0, 5).join('\n')}`).toEqual([]);
      expect(parts.length).toBeGreaterThan(5);
      expect(lines.join('\n')).not.toContain('start-test-pw');
    }
  });

  // No Redis answers and REDIS_URL is not set: a private redis-server is started and stopped with the stack.
  it.runIf(canUnshareNet())('starts a private redis-server when none answers and REDIS_URL is unset', async () => {
    const { REDIS_URL: _unset, ...env } = t.env;
    const redisDir = path.dirname(execFileSync('sh', ['-c', 'command -v redis-server']).toString().trim());
    const stack = runStack(['--no-board', '--no-mock-api'], { ...env, PATH: `${path.dirname(process.execPath)}:${redisDir}:/usr/bin:/bin` }, [...IN_EMPTY_NETNS]);
    const line = await stack.waitFor(/^\[start\] no Redis at redis:\/\/127\.0\.0\.1:6379: started a private redis-server/);
    expect(line).toContain('(AOF on, noeviction, data in');
    await stack.waitFor(/"event":"worker-ready"/);
    const { code } = await stack.interrupt();
    expect(code).toBe(0);
    expect(stack.lines).toContain('[start] private redis-server stopped');
  });
});
