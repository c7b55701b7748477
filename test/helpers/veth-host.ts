import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A stand-in for another host: a network namespace of its own joined to
 * this one by a veth pair (host side `10.213.<n>.1`, namespace side
 * `10.213.<n>.2`). Its processes reach this host's services only over that
 * link, through `startForwarder` (services here listen on 127.0.0.1).
 */
export interface VethHost {
  readonly name: string;
  /** This host's address as the namespace sees it. */
  readonly hostIp: string;
  /** Runs a command inside the namespace (it execs: the child's pid is the command's). */
  readonly wrap: readonly string[];
  remove(): void;
}

/** Whether this machine lets us make named network namespaces and veth pairs (root, iproute2). */
export function canMakeVethHosts(): boolean {
  const probe = `rm-probe-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function makeVethHost(): VethHost {
  const tag = randomBytes(3).toString('hex');
  const n = 1 + (randomBytes(1)[0] as number) % 250;
  const name = `rm-${tag}`;
  const outside = `rmh${tag}`;
  const inside = `rmn${tag}`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `10.213.${n}.1/24`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `10.213.${n}.2/24`, 'dev', inside);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  return {
    name,
    hostIp: `10.213.${n}.1`,
    wrap: ['ip', 'netns', 'exec', name],
    remove: () => {
      try {
        ip('netns', 'del', name); // takes the veth pair with it
      } catch {
        /* already gone */
      }
    },
  };
}

/** A TCP forwarder on every address of this host (so on each veth) to a service on 127.0.0.1. */
export async function startForwarder(targetPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
