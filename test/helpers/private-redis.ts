import type { ChildProcess } from 'node:child_process';
import { freeLoopbackPort, spawnRedisServer } from '@recomart/cli';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { reservePort } from './reserved-port.js';

/** A free TCP port on 127.0.0.1. */
export const freePort = freeLoopbackPort;

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** Stops it (SIGTERM, or SIGKILL when `kill`), waiting for the exit. */
  stop(kill?: boolean): Promise<void>;
  /** Starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Stops it for good and removes its dir. */
  dispose(): Promise<void>;
}

/**
 * Starts a private redis-server (from PATH) on a reserved loopback port (one
 * no other test or outgoing connection can take while it is down for a
 * restart), waiting until it accepts connections.
 */
export async function startPrivateRedis(options: { appendonly?: boolean; policy?: string } = {}): Promise<PrivateRedis> {
  const reserved = await reservePort();
  const port = reserved.port;
  const dir = mkdtempSync(path.join(tmpdir(), 'recomart-redis-'));
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir,
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--maxmemory-policy', options.policy ?? 'noeviction',
  ];
  const launch = (): Promise<ChildProcess> => spawnRedisServer('redis-server', args);
  const handle: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: await launch(),
    async stop(kill = false) {
      const child = handle.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill(kill ? 'SIGKILL' : 'SIGTERM');
      });
    },
    async restart() {
      await handle.stop();
      handle.process = await launch();
    },
    async dispose() {
      await handle.stop(true);
      rmSync(dir, { recursive: true, force: true });
      reserved.release();
    },
  };
  return handle;
}
