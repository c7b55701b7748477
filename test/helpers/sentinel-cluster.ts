import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { spawnRedisServer } from '@recomart/cli';
import { waitUntil } from './wait-until.js';
import { reservePort, type ReservedPort } from './reserved-port.js';

/** Passwords of the cluster: the data servers' `requirepass` and the sentinels' own. */
export const PRIMARY_PASSWORD = 'primary-pw-7f3a';
export const SENTINEL_PASSWORD = 'sentinel-pw-91c2';
export const PRIMARY_NAME = 'ingest-primary';

export interface SentinelCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, as REDIS_SENTINELS takes it. */
  sentinels: string;
  primaryPort: number;
  replicaPort: number;
  /** The environment that points a process at this cluster. */
  env: Record<string, string>;
  /** SIGKILLs the primary, waiting for it to exit. */
  killPrimary(): Promise<void>;
  /** Resolves with the port the sentinels name as primary once it is not `oldPort` (polling each sentinel's answer). */
  waitForNewPrimary(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Stops every process, removes the dirs, gives the ports back. */
  dispose(): Promise<void>;
}

function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * A real Sentinel setup on loopback: a primary and a replica (both with a
 * password, noeviction, AOF on), and three `redis-sentinel` processes (with a
 * password of their own, quorum 2, a primary counted down after 1 s). Resolves
 * once the replica is in sync and every sentinel knows the replica and both
 * other sentinels, so a failover can be elected. Ports are reserved (see
 * reserved-port.ts), so nothing else takes them.
 */
export async function startSentinelCluster(): Promise<SentinelCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'recomart-sentinel-'));
  const ports: ReservedPort[] = [];
  const children: ChildProcess[] = [];
  const clients: Redis[] = [];
  const reserve = async () => {
    const p = await reservePort();
    ports.push(p);
    return p.port;
  };
  const dispose = async () => {
    for (const c of clients) c.disconnect();
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map(exitOf));
    rmSync(dir, { recursive: true, force: true });
    for (const p of ports) p.release();
  };
  try {
    const primaryPort = await reserve();
    const replicaPort = await reserve();
    const server = (port: number, extra: string[]) => [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', path.join(dir, String(port)),
      '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--requirepass', PRIMARY_PASSWORD, '--masterauth', PRIMARY_PASSWORD, ...extra,
    ];
    for (const port of [primaryPort, replicaPort]) mkdirSync(path.join(dir, String(port)), { recursive: true });
    const primary = await spawnRedisServer('redis-server', server(primaryPort, []));
    children.push(primary);
    children.push(await spawnRedisServer('redis-server', server(replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)])));
    const replicaClient = new Redis({ port: replicaPort, host: '127.0.0.1', password: PRIMARY_PASSWORD, lazyConnect: true });
    clients.push(replicaClient);
    await waitUntil('the replica to sync', async () => /master_link_status:up/.test(await replicaClient.info('replication')), { timeoutMs: 30_000, everyMs: 100 });

    const sentinelPorts = [await reserve(), await reserve(), await reserve()];
    for (const port of sentinelPorts) {
      const conf = path.join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `requirepass ${SENTINEL_PASSWORD}`,
          `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel auth-pass ${PRIMARY_NAME} ${PRIMARY_PASSWORD}`,
          `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`,
          `sentinel failover-timeout ${PRIMARY_NAME} 10000`,
          `sentinel parallel-syncs ${PRIMARY_NAME} 1`,
          '',
        ].join('\n'),
      );
      children.push(await spawnRedisServer('redis-sentinel', [conf], '+monitor master'));
    }
    const sentinelClients = sentinelPorts.map((port) => new Redis({ port, host: '127.0.0.1', password: SENTINEL_PASSWORD, lazyConnect: true }));
    clients.push(...sentinelClients);
    for (const s of sentinelClients) {
      await waitUntil('every sentinel to know the replica and the two other sentinels', async () => {
        const replicas = (await s.call('SENTINEL', 'REPLICAS', PRIMARY_NAME)) as unknown[];
        const others = (await s.call('SENTINEL', 'SENTINELS', PRIMARY_NAME)) as unknown[];
        return replicas.length === 1 && others.length === 2;
      }, { timeoutMs: 60_000, everyMs: 100 });
    }
    const sentinels = sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
    return {
      sentinels,
      primaryPort,
      replicaPort,
      env: {
        // The URL's host and port are not used with sentinels; its password is.
        REDIS_URL: `redis://:${PRIMARY_PASSWORD}@127.0.0.1:${primaryPort}`,
        REDIS_SENTINELS: sentinels,
        REDIS_SENTINEL_NAME: PRIMARY_NAME,
        REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
      },
      async killPrimary() {
        primary.kill('SIGKILL');
        await exitOf(primary);
      },
      async waitForNewPrimary(oldPort, timeoutMs = 60_000) {
        let port = oldPort;
        await waitUntil(`the sentinels to promote a new primary (was ${oldPort})`, async () => {
          const answers = await Promise.all(
            sentinelClients.map(async (s) => Number(((await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', PRIMARY_NAME)) as string[])[1])),
          );
          port = answers[0] as number;
          return answers.every((p) => p === port && p !== oldPort);
        }, { timeoutMs, everyMs: 100 });
        return port;
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
