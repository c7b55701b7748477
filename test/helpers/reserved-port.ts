import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Ports for test servers that must get their port back after a restart (a
 * private Redis, a Sentinel). A port from `listen(0)` is in the kernel's
 * ephemeral range (32768–60999 here): while such a server is down, another
 * test's `listen(0)` or any outgoing connection's local port may take it, and
 * the restart fails with EADDRINUSE. These ports come from below that range
 * (20000–32767), which the kernel never hands out by itself, and each is
 * reserved with an exclusive lock file under the temp dir, so two tests (or
 * two engineers' test runs on one machine) never pick the same one.
 */
const LOW = 20_000;
const HIGH = 32_767;
const LOCK_DIR = path.join(tmpdir(), 'recomart-test-ports');

export interface ReservedPort {
  port: number;
  /** Gives the port back (removes its lock file). */
  release(): void;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Reserves a loopback port outside the ephemeral range that nobody listens on. */
export async function reservePort(): Promise<ReservedPort> {
  mkdirSync(LOCK_DIR, { recursive: true });
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW + 1));
    const lock = path.join(LOCK_DIR, `${port}.lock`);
    try {
      closeSync(openSync(lock, 'wx'));
    } catch {
      continue; // reserved by another test
    }
    if (await bindable(port)) return { port, release: () => rmSync(lock, { force: true }) };
    rmSync(lock, { force: true });
  }
  throw new Error(`no free port between ${LOW} and ${HIGH} after 200 tries (locks in ${LOCK_DIR})`);
}
