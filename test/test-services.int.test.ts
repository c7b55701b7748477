import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/private-redis.js';
import { ROOT } from './helpers/run-cli.js';

const SCRIPT = path.join(ROOT, 'scripts/test-services.sh');
// What the script and its commands run, linked into a PATH of their own, without chromium.
const TOOLS = ['bash', 'node', 'redis-server', 'date', 'id', 'mktemp', 'seq', 'sleep', 'cat', 'kill', 'rm', 'sed', 'tail', 'dirname', 'env'];

function pathWithout(dir: string): string {
  for (const tool of TOOLS) {
    const found = [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    if (found) symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('/bin/bash', [SCRIPT, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('scripts/test-services.sh (the set-up step of npm test and CI)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const bin = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'recomart-path-'));
    dirs.push(d);
    return pathWithout(d);
  };

  it('starts a private redis-server where REDIS_URL names a closed port, runs the command against it, and stops it after', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    expect(await listening(port)).toBe(false);
    const { code, out } = await run(['node', 'scripts/redis-ping.mjs'], { PATH: bin(), REDIS_URL: url, TEST_SERVICES: 'redis', TEST_SERVICES_INSTALL: 'never', HOME: tmpdir() });
    expect(code, out).toBe(0); // redis-ping exits 0 only when PONG came back from the private server
    expect(out).toContain(`no Redis at 127.0.0.1:${port}: starting a private redis-server there`);
    expect(await listening(port), `still listening after the script ended:\n${out}`).toBe(false);
  });

  it('names the one command that installs a missing chromium, runs nothing, and still stops what it started', async () => {
    const port = await freePort();
    const { code, out } = await run(['node', '-e', 'console.log("the command ran")'], {
      PATH: bin(),
      REDIS_URL: `redis://127.0.0.1:${port}`,
      TEST_SERVICES: 'redis,chromium',
      TEST_SERVICES_INSTALL: 'never',
      HOME: tmpdir(),
    });
    expect(code, out).toBe(1);
    expect(out).toContain('sudo apt-get install -y --no-install-recommends chromium');
    expect(out).not.toContain('the command ran');
    expect(await listening(port), `still listening after the script ended:\n${out}`).toBe(false);
  });

  it('reuses a Redis that answers and passes the command its exit code', async () => {
    const { code, out } = await run(['node', '-e', 'process.exit(7)'], { PATH: bin(), REDIS_URL: 'redis://127.0.0.1:6379', TEST_SERVICES: 'redis', HOME: tmpdir() });
    expect(out).toContain('Redis answers at redis://127.0.0.1:6379: reusing it');
    expect(code).toBe(7);
  });
});
