import { execFileSync } from 'node:child_process';

/** Whether this machine lets us make a network namespace of our own (root, util-linux unshare). */
export function canUnshareNet(): boolean {
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Wraps a command so it runs in a fresh network namespace with loopback up: nothing listens there. */
export const IN_EMPTY_NETNS: readonly string[] = ['/usr/bin/unshare', '-n', '/bin/sh', '-c', '/usr/sbin/ip link set lo up 2>/dev/null; exec "$@"', 'sh'];
