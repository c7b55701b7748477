import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '@recomart/jobs';
import { LakeSettingsError, openLake, type Lake, type S3Options } from '@recomart/lake';
import { ROOT, runRecomart } from '../helpers/run-cli.js';
import { createTestBucket, type TestBucket } from '../helpers/test-s3.js';
import { startSlowDownProxy, type SlowDownProxy } from './slowdown-proxy.js';

// Faults of the lake on S3, against the real Ceph RGW of scripts/ceph-s3.sh: the gateway itself is stopped
// and started again (its data stays in the OSD); SlowDown comes from a proxy in front of it.

const INIT = { source: 'clickstream', date: '2024-03-09', jobId: 'clickstream__2024-03-09', attempt: 1 };
const CHUNK = 64 * 1024;

function gateway(action: 'stop-gateway' | 'start-gateway'): void {
  execFileSync(path.join(ROOT, 'scripts/ceph-s3.sh'), [action], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
}

async function commitSmall(lake: Lake, runId: string, body = '{"a":1}') {
  const session = await lake.begin({ ...INIT, runId });
  await session.writeFile('a.json', 'test', body);
  await session.writeFile('b.json', 'test', `${body}\n`);
  return session.commit({ records: 2, rejected: 0, validation: {} });
}

describe('the lake on S3 under faults', () => {
  let bucket: TestBucket;
  let dataDir: string;
  let proxy: SlowDownProxy | undefined;
  beforeAll(async () => {
    bucket = await createTestBucket('faults');
    dataDir = mkdtempSync(path.join(tmpdir(), 's3-faults-'));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    gateway('start-gateway'); // whatever happened: leave the server up for the rest of the suite
    await bucket.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const lakeAt = (prefix: string, s3: Partial<S3Options> = {}) => openLake({ dataDir, url: bucket.lakeUrl(prefix), s3: { ...bucket.s3, ...s3 } });

  it('the S3 server stopped in the middle of an upload: a retryable failure, nothing published; after it is back the retry commits', async () => {
    const lake = lakeAt('stopped', { maxAttempts: 2 });
    const session = await lake.begin({ ...INIT, runId: 'run-1' });
    const sink = session.createFile('events-000.csv', 'landing:events-000.csv');
    let stopped = false;
    async function* body() {
      for (let i = 0; i < 320; i++) {
        // 12.5 MB in: the first multipart part is up, the next one in flight.
        if (i === 200) {
          gateway('stop-gateway');
          stopped = true;
        }
        yield Buffer.alloc(CHUNK, i % 251);
      }
    }
    const written = pipeline(Readable.from(body()), sink.stream).catch((err: unknown) => err);
    const failure = await sink.done.then(
      () => undefined,
      (err: unknown) => err,
    );
    await written;
    expect(stopped).toBe(true);
    expect(failure, 'the upload should fail while the gateway is down').toBeInstanceOf(Error);
    const c = classifyError(failure);
    expect(c.retryable, c.reason).toBe(true);
    expect(c.reason).toMatch(/^lake: uploading s3:\/\/t-faults-[0-9a-f]+\/stopped\/clickstream\/2024\/03\/09\/v1\/events-000\.csv failed: /);
    await expect(session.commit({ records: 1, rejected: 0, validation: {} })).rejects.toThrow(/lake: uploading/);
    gateway('start-gateway');

    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([]);
    const retry = await commitSmall(lake, 'run-2');
    expect(retry.status).toBe('committed');
    expect(await lake.listVersions('clickstream', '2024-03-09')).toEqual([retry.version]);
    await lake.sweep(0);
    expect(await bucket.store.listPendingUploads('stopped/')).toEqual([]);
    expect(await lake.verify()).toMatchObject({ ok: true, versionsChecked: 1, filesChecked: 2 });
  });

  it('503 SlowDown answers are backed off and retried by the client; the commit goes through', async () => {
    proxy = await startSlowDownProxy(bucket.server.endpoint);
    const lake = lakeAt('slowdown', { endpoint: proxy.endpoint, maxAttempts: 5 });
    proxy.slowDownNext(3);
    const result = await commitSmall(lake, 'run-1');
    expect(result.status).toBe('committed');
    expect(proxy.counts().slowedDown).toBe(3);
    expect(await lake.verify()).toMatchObject({ ok: true, versionsChecked: 1, filesChecked: 2 });
  });

  it('SlowDown that does not stop within the attempts fails the job attempt retryably, naming the answer', async () => {
    proxy = await startSlowDownProxy(bucket.server.endpoint);
    const lake = lakeAt('slowdown-long', { endpoint: proxy.endpoint, maxAttempts: 2 });
    proxy.slowDownNext(1000);
    const err = await commitSmall(lake, 'run-1').catch((e: unknown) => e);
    const c = classifyError(err);
    expect(c.retryable).toBe(true);
    expect(c.reason).toMatch(/SlowDown 503/);
    // The session's first round trip is three requests at once (the listing, the claim, its marker), each tried twice.
    expect(proxy.counts()).toEqual({ slowedDown: 3 * 2, passed: 0 });
  });

  it('wrong credentials and a missing bucket fail for good, one line naming the setting, no secret', async () => {
    const secret = 'not-the-right-secret-7f3a9c';
    const wrong = lakeAt('creds', { credentials: { accessKeyId: bucket.server.accessKeyId, secretAccessKey: secret } });
    for (const attempt of [() => wrong.listPartitions('clickstream'), () => commitSmall(wrong, 'run-1')]) {
      const err = await attempt().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LakeSettingsError);
      const c = classifyError(err);
      expect(c.retryable).toBe(false);
      expect(c.reason).toMatch(/^lake: the S3 endpoint refused the credentials \(SignatureDoesNotMatch\) while .*: check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY \(or the AWS profile\)$/);
      expect(c.reason).not.toContain(secret);
    }
    const missing = openLake({ dataDir, url: 's3://recomart-no-such-bucket/lake', s3: bucket.s3 });
    const err = await commitSmall(missing, 'run-1').catch((e: unknown) => e);
    expect(classifyError(err)).toMatchObject({
      retryable: false,
      reason: `lake: bucket "recomart-no-such-bucket" of LAKE_URL does not exist (NoSuchBucket) at ${bucket.server.endpoint}`,
    });

    // The same through the CLI: one line on stderr, exit 1, no secret.
    const cli = await runRecomart(['lake', 'ls'], { ...bucket.env('creds'), AWS_SECRET_ACCESS_KEY: secret });
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toContain('AWS_SECRET_ACCESS_KEY');
    expect(cli.stderr).not.toContain(secret);
  });
});
