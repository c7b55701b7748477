import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Job, Worker } from 'bullmq';
import { queueName } from '@recomart/jobs';
import { nodeFileSystem, openLake, type LakeFileSystem, type WriteHandle } from '@recomart/lake';
import { AuditEmitter, type IngestJobResult } from '@recomart/queue';
import { sourceRegistry } from '@recomart/sources';
import { createIngestProcessor, RetryableJobError } from '@recomart/worker';
import { writeClickstreamDay } from './clickstream-day.js';
import { FaultStand } from './fault-stand.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';
import { canMountTmpfs, mountTmpfs, resizeTmpfs, unmount } from './tmpfs.js';

const TMPFS = canMountTmpfs();
const DATE = '2026-09-01';
const FIRST = `clickstream__${DATE}`;
const SECOND = `clickstream__${DATE}__rdiskfull`;
const click = { source: 'clickstream' as const, date: DATE, trigger: 'manual' as const };

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

/** A landing zone outside the (small) data dir, removed on close. */
function separateLanding(): string {
  return mkdtempSync(path.join(tmpdir(), 'recomart-f-disk-landing-'));
}

/**
 * After `v1` of DATE is committed, a second, much larger export lands and a
 * reprocess job runs out of disk. Checks what must hold while the disk is
 * full, frees space (`makeRoom`), and lets the delayed retry commit v2.
 */
async function diskFullStory(s: FaultStand, fill: () => Promise<void>, makeRoom: () => Promise<void>): Promise<void> {
  const events = await s.queueEvents('clickstream');
  await writeClickstreamDay(s.t.config.landingDir, DATE, 2000, 'events-000.csv');
  const first = await s.queue('clickstream').add('ingest', click, { jobId: FIRST });
  expect(await first.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1 });
  const before = await snapshotLake(s.dataDir);

  await fill();
  await writeClickstreamDay(s.t.config.landingDir, DATE, 150_000, 'events-001.csv');
  const delayed = new Promise<void>((resolve) => {
    const onDelayed = ({ jobId }: { jobId: string }) => {
      if (jobId !== SECOND) return;
      events.off('delayed', onDelayed);
      resolve();
    };
    events.on('delayed', onDelayed);
  });
  await s.queue('clickstream').add('ingest', click, { jobId: SECOND });
  const failed = await s.audit.waitFor((e) => e.jobId === SECOND && e.type === 'failed');
  expect(failed).toMatchObject({ final: false, errorClass: 'TransientError' });
  expect(String(failed.error)).toMatch(/^lake: writing staged file "events-00[01]\.csv" failed: ENOSPC: no space left on device, write$/);
  const retry = await s.audit.waitFor((e) => e.jobId === SECOND && e.type === 'retry-scheduled');
  expect(retry).toMatchObject({ nextAttempt: 2 });
  await delayed;
  const job = (await Job.fromId(s.queue('clickstream'), SECOND)) as Job;
  expect(await job.getState()).toBe('delayed');

  // While the disk is full: nothing published, staging cleaned, v1 byte for byte as it was.
  const midway = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date: DATE }], before, audit: { redis: s.redis, prefix: s.prefix, jobIds: [FIRST] } });
  expect(midway.problems).toEqual([]);
  expect(midway.versions.get(`clickstream ${DATE}`)).toEqual([1]);
  expect(midway.staging).toEqual([]);

  await makeRoom();
  await job.promote();
  const result = (await job.waitUntilFinished(events, 60_000)) as IngestJobResult;
  expect(result).toMatchObject({ status: 'committed', version: 2, files: 2, records: 152_000 });

  const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date: DATE }], before, audit: { redis: s.redis, prefix: s.prefix, jobIds: [FIRST, SECOND] } });
  expect(report.problems).toEqual([]);
  expect(report.versions.get(`clickstream ${DATE}`)).toEqual([1, 2]);
  expect(report.staging).toEqual([]);
}

describe('fault 8: the disk fills up during a write', () => {
  it.skipIf(!TMPFS)('a 1 MiB tmpfs as DATA_DIR under a real worker process: retryable failure, nothing published, v1 untouched; with room again the retry commits v2', async () => {
    const landing = separateLanding();
    // A long backoff: the retry waits until the test has made room, then is promoted.
    const s = (stand = new FaultStand('f-disk', { LANDING_DIR: landing, JOB_BACKOFF_MS: '600000' }));
    mountTmpfs(s.dataDir, '1m');
    s.defer(async () => {
      unmount(s.dataDir);
      rmSync(landing, { recursive: true, force: true });
    });
    await s.spawn();
    await diskFullStory(
      s,
      async () => undefined,
      async () => resizeTmpfs(s.dataDir, '64m'),
    );
  });

  it('a lake whose staged writes fail with ENOSPC (the lake filesystem seam), through the ingest processor and a BullMQ worker', async () => {
    const s = (stand = new FaultStand('f-disk-seam', { JOB_BACKOFF_MS: '600000' }));
    let full = false;
    const capacity = 1 << 20;
    const fileSystem: Partial<LakeFileSystem> = {
      async createFile(file: string): Promise<WriteHandle> {
        const real = await nodeFileSystem.createFile(file);
        let written = 0;
        return {
          async write(bytes: Uint8Array): Promise<void> {
            if (full && written + bytes.byteLength > capacity) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
            written += bytes.byteLength;
            await real.write(bytes);
          },
          sync: () => real.sync(),
          close: () => real.close(),
        };
      },
    };
    const config = s.t.config;
    const processor = createIngestProcessor({
      config,
      lake: openLake({ dataDir: s.dataDir, fileSystem }),
      sources: sourceRegistry,
      logger: s.t.logger,
      audit: new AuditEmitter(s.redis, s.prefix, config.audit.streamMaxLen),
      worker: `test:${process.pid}`,
    });
    const worker = new Worker(queueName('clickstream'), (job) => processor(job), {
      connection: { url: config.redisUrl },
      prefix: s.prefix,
      lockDuration: config.worker.lockMs,
      settings: { backoffStrategy: (_n: number, _type?: string, err?: Error) => (err instanceof RetryableJobError ? err.delayMs : config.jobs.backoffMs) },
    });
    worker.on('error', () => undefined);
    s.defer(() => worker.close(true));
    await diskFullStory(
      s,
      async () => {
        full = true;
      },
      async () => {
        full = false;
      },
    );
  });
});
