import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Whether an executable named `name` is on PATH. */
export function onPath(name: string, envPath = ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1. */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface StartedRedis {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawns `redis-server` (or `redis-sentinel`) with `args` and resolves once its
 * output says `readyLine` — by default that it accepts connections — or
 * rejects with the tail of its output when it exits or takes over 10 s.
 */
export async function spawnRedisServer(binary: string, args: readonly string[], readyLine = 'Ready to accept connections'): Promise<ChildProcess> {
  const child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const name = path.basename(binary);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.slice(-300)}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(readyLine)) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${out.slice(-300)}`));
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/**
 * Starts a private redis-server for the local stack: loopback only, a free
 * port, AOF on, `noeviction`, data under `dir`. Resolves once it accepts connections.
 */
export async function startPrivateRedisServer(binary: string, dir: string): Promise<StartedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freeLoopbackPort();
  const child = await spawnRedisServer(binary, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '',
  ]);
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
