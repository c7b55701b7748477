import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { addDays } from '@recomart/jobs';
import { openLake, type Lake } from '@recomart/lake';
import { auditStreamKey } from '@recomart/queue';
import { startedWorkerPid } from '../helpers/audit-tail.js';
import { waitUntil } from '../helpers/wait-until.js';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { runRecomart } from '../helpers/run-cli.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../helpers/test-env.js';
import { createTestBucket, type TestBucket } from '../helpers/test-s3.js';
import { canMakeVethHosts, makeVethHost, startForwarder, type VethHost } from '../helpers/veth-host.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../helpers/worker-processes.js';

// Three "hosts": each worker in a network namespace of its own with its own empty DATA_DIR, reaching Redis,
// the S3 endpoint (real Ceph RGW) and the product API only over a veth link. One bucket holds the lake and
// the clickstream landing zone; nothing is shared on disk. Needs root for the namespaces (skipped otherwise).

const FROM = '2026-02-01';
const DAYS = 10;
const TO = addDays(FROM, DAYS - 1);
const BIG = addDays(FROM, 4);

describe.runIf(canMakeVethHosts())('three workers on three network namespaces, one bucket, one Redis', () => {
  let t: TestEnv;
  let bucket: TestBucket;
  let api: MockApiHandle;
  let redis: Redis;
  let hosts: VethHost[] = [];
  let forwarders: Array<{ close(): Promise<void> }> = [];
  let workers: WorkerProcess[] = [];
  const dataDirs: string[] = [];

  beforeAll(async () => {
    bucket = await createTestBucket('multihost');
    api = await startMockProductApi({ port: 0, products: 250, seed: 'multihost' });
    t = makeTestEnv('multihost', {
      ...bucket.env('lake'),
      CLICKSTREAM_LANDING_URL: `s3://${bucket.bucket}/landing`,
      CLICKSTREAM_SETTLE_MS: '0', // the exports were put there just now, completely
      PRODUCTS_API_URL: api.url,
      PRODUCTS_PAGE_SIZE: '100',
      JOB_ATTEMPTS: '5',
      JOB_BACKOFF_MS: '100',
      WORKER_LOCK_MS: '4000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    });
    redis = new Redis(t.config.redisUrl);
    // The exports, generated on this host, then put into the bucket's landing zone.
    const gen = await runRecomart(['generate', '--from', FROM, '--to', TO, '--rows-per-day', '400', '--seed', 'mh'], t.env, { timeoutMs: 120_000 });
    expect(gen.code, gen.stderr).toBe(0);
    const big = await runRecomart(['generate', '--from', BIG, '--to', BIG, '--rows-per-day', '400000', '--files-per-day', '1', '--seed', 'mh-big'], t.env, { timeoutMs: 120_000 });
    expect(big.code, big.stderr).toBe(0);
    const landing = path.join(t.dataDir, 'landing', 'clickstream');
    for (const date of await readdir(landing)) {
      // The day's marker (`_SUCCESS`) last, as an exporter writes it: after every file of the day.
      for (const name of (await readdir(path.join(landing, date))).sort((a, b) => Number(a === '_SUCCESS') - Number(b === '_SUCCESS'))) {
        await bucket.store.upload(`landing/clickstream/${date}/${name}`, createReadStream(path.join(landing, date, name))).done;
      }
    }
    rmSync(path.join(t.dataDir, 'landing'), { recursive: true, force: true });
  }, 240_000);

  afterAll(async () => {
    await stopWorkers(workers);
    await Promise.all(forwarders.map((f) => f.close()));
    for (const h of hosts) h.remove();
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    await api.close();
    await bucket.remove();
    t.cleanup();
  });

  it('a 10-day backfill of both sources with one worker SIGKILLed mid-upload: every partition has one version, verify is clean', { timeout: 300_000 }, async () => {
    const redisPort = Number(new URL(t.config.redisUrl).port || 6379);
    const s3Port = Number(new URL(bucket.server.endpoint).port);
    const apiUrl = new URL(api.url);
    const [fRedis, fS3, fApi] = await Promise.all([startForwarder(redisPort), startForwarder(s3Port), startForwarder(Number(apiUrl.port))]);
    forwarders = [fRedis, fS3, fApi].filter((f) => f !== undefined);
    hosts = [0, 1, 2].map(() => makeVethHost());
    workers = hosts.map((h) => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'recomart-host-'));
      dataDirs.push(dataDir);
      const env = {
        ...t.env,
        DATA_DIR: dataDir,
        REDIS_URL: `redis://${h.hostIp}:${fRedis?.port}`,
        S3_ENDPOINT: `http://${h.hostIp}:${fS3?.port}`,
        PRODUCTS_API_URL: `http://${h.hostIp}:${fApi?.port}${apiUrl.pathname}`,
      };
      return spawnWorker(env, ['--concurrency', '2'], { wrap: h.wrap });
    });
    await Promise.all(workers.map((w) => w.ready));

    const stream = auditStreamKey(t.prefix);
    const [lastId] = ((await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0] ?? ['0-0']) as [string];
    const backfill = runRecomart(['backfill', '--source', 'all', '--from', FROM, '--to', TO, '--wait'], t.env, { timeoutMs: 300_000 });

    // The worker that starts the big day is killed once its upload is under way (a multipart upload in the bucket).
    const reader = new Redis(t.config.redisUrl);
    let victimPid: number | undefined;
    try {
      victimPid = await startedWorkerPid(reader, stream, lastId, `clickstream__${BIG}`);
    } finally {
      reader.disconnect();
    }
    const partition = `lake/clickstream/${BIG.slice(0, 4)}/${BIG.slice(5, 7)}/${BIG.slice(8, 10)}/`;
    await waitUntil(`a multipart upload of ${partition}`, async () => (await bucket.store.listPendingUploads(partition)).length > 0, {
      timeoutMs: 120_000,
      state: () => `worker ${victimPid}: ${workers.find((w) => w.pid === victimPid)?.output().slice(-1500) ?? ''}`,
    });
    const victim = workers.find((w) => w.pid === victimPid);
    expect(victim, `worker ${victimPid} of ${workers.map((w) => w.pid).join(',')}`).toBeDefined();
    victim?.child.kill('SIGKILL');
    await victim?.exited;

    const done = await backfill;
    expect(done.code, `${done.stderr}\n${workers.map((w) => w.output().slice(-2000)).join('\n---\n')}`).toBe(0);
    const lake: Lake = openLake({ dataDir: t.dataDir, url: bucket.lakeUrl('lake'), s3: bucket.s3 });
    const committers = new Set<number>();
    for (const source of ['clickstream', 'products'] as const) {
      const dates = await lake.listPartitions(source);
      expect(dates).toHaveLength(DAYS);
      for (const d of dates) {
        expect(await lake.listVersions(source, d), `${source} ${d}`).toHaveLength(1);
        committers.add((await lake.readManifest(source, d))?.worker.pid ?? -1);
      }
    }
    expect(committers.size).toBeGreaterThan(1);
    expect((await lake.readManifest('clickstream', BIG))?.worker.pid).not.toBe(victimPid);
    const verify = await runRecomart(['lake', 'verify'], t.env, { timeoutMs: 120_000 });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // No host kept anything of the lake on its own disk.
    for (const d of dataDirs) expect(await readdir(d).catch(() => [])).not.toContain('raw');
  });
});
