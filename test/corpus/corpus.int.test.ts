import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Job, Queue, QueueEvents } from 'bullmq';
import { queueName, type IngestPayload } from '@recomart/jobs';
import { quarantinePath } from '@recomart/lake';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { ingestJobOptions, type IngestJobResult } from '@recomart/queue';
import { startWorker, type RunningWorker } from '@recomart/worker';
import { dropPrefix } from '../helpers/test-env.js';
import { reconcile } from '../faults/reconciler.js';
import { ROOT } from '../helpers/run-cli.js';
import { makeTestEnv, type TestEnv } from '../helpers/test-env.js';
import { caseBytes, caseData, loadCorpus, type ClickstreamCase, type PayloadCase } from './corpus-cases.js';

const corpus = loadCorpus();

interface Outcome {
  job: Job<IngestPayload, IngestJobResult>;
  result?: IngestJobResult;
  failedReason?: string;
}

/**
 * Every corpus input through the real path: an ingest worker (the real source
 * registry, lake and processor) consuming ingest-clickstream. Each case has its
 * own partition date; every case ends with nothing partial in the lake.
 */
describe('bad-input corpus (test/corpus/expected.json) through an ingest worker', () => {
  let t: TestEnv;
  let api: MockApiHandle;
  let redis: Redis;
  let running: RunningWorker;
  let queue: Queue<IngestPayload, IngestJobResult>;
  let events: QueueEvents;

  beforeAll(async () => {
    api = await startMockProductApi({ port: 0, products: 20, seed: 'corpus' });
    t = makeTestEnv('corpus', { JOB_ATTEMPTS: '3', JOB_BACKOFF_MS: '20', PRODUCTS_API_URL: api.url });
    redis = new Redis(t.config.redisUrl);
    running = await startWorker({ config: t.config, logger: t.logger, httpPort: null, sources: ['clickstream'] });
    queue = new Queue(queueName('clickstream'), { connection: redis, prefix: t.prefix });
    events = new QueueEvents(queueName('clickstream'), { connection: { url: t.config.redisUrl }, prefix: t.prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await running?.close(2000);
    await events?.close();
    await queue?.close();
    if (redis) await dropPrefix(redis, t.prefix);
    redis?.disconnect();
    await api?.close();
    t?.cleanup();
  });

  async function finish(job: Job<IngestPayload, IngestJobResult>): Promise<Outcome> {
    try {
      return { job, result: await job.waitUntilFinished(events, 60_000) };
    } catch (err) {
      return { job, failedReason: (err as Error).message };
    }
  }

  async function land(c: ClickstreamCase, bytes: Buffer): Promise<void> {
    const dir = path.join(t.config.landingDir, 'clickstream', c.date);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, c.landAs), bytes);
  }

  /** The case's other entries, beside its file (only before the first run). */
  async function landAlso(c: ClickstreamCase): Promise<void> {
    const dir = path.join(t.config.landingDir, 'clickstream', c.date);
    for (const e of c.also ?? []) {
      const p = path.join(dir, e.name);
      if (e.kind === 'file') await writeFile(p, e.text ?? '');
      else if (e.kind === 'symlink') await symlink(e.target ?? '/nonexistent', p);
      else {
        const made = spawnSync('mkfifo', [p], { encoding: 'utf8' });
        expect(made.status, made.stderr).toBe(0);
      }
    }
  }

  async function stagingLeft(): Promise<string[]> {
    return readdir(path.join(t.dataDir, 'raw', '.staging')).catch(() => []);
  }

  async function lakeFile(date: string, name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await running.lake.openFile('clickstream', date, 1, name)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('the committed corpus files are exactly what make-corpus.mjs writes', () => {
    const run = spawnSync(process.execPath, [path.join(ROOT, 'test/corpus/make-corpus.mjs'), '--check'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
  });

  it.each(corpus.clickstream)('clickstream: $case → $expect.outcome', async (c) => {
    const bytes = caseBytes(c);
    await land(c, bytes);
    await landAlso(c);
    const jobId = `clickstream__${c.date}`;
    const { job, result, failedReason } = await finish(await queue.add('ingest', { source: 'clickstream', date: c.date, trigger: 'manual' }, { ...ingestJobOptions(t.config), jobId }));
    const fresh = (await Job.fromId(queue, jobId)) as Job;
    const want = c.expect;

    if (want.outcome === 'committed') {
      expect(failedReason).toBeUndefined();
      expect(result).toMatchObject({ status: 'committed', version: 1, records: want.records, rejected: want.rejected });
    } else {
      expect(result).toBeUndefined();
      expect(failedReason).toBe(want.reason);
      expect(fresh.failedReason).toBe(want.reason);
      // Failed for good: not retried (or retried to the last attempt, when each attempt was retryable).
      expect(fresh.attemptsMade).toBe(want.attempts ?? 1);
    }

    const versions = await running.lake.listVersions('clickstream', c.date);
    if (want.outcome === 'failed') {
      expect(versions).toEqual([]);
    } else {
      expect(versions).toEqual([1]);
      const manifest = await running.lake.readManifest('clickstream', c.date);
      expect(manifest).toMatchObject({ records: want.records, rejected: want.rejected, jobId });
      // The raw bytes are kept exactly as they landed.
      expect((await lakeFile(c.date, c.landAs)).equals(bytes)).toBe(true);
      const rejectedFile = manifest?.files.find((f) => f.path === '_rejected.ndjson');
      if (want.rejectedByReason) {
        const counted: Record<string, number> = {};
        for (const line of (await lakeFile(c.date, '_rejected.ndjson')).toString('utf8').trim().split('\n')) {
          for (const r of (JSON.parse(line) as { reasons: string[] }).reasons) counted[r] = (counted[r] ?? 0) + 1;
        }
        expect(counted).toEqual(want.rejectedByReason);
        const byReason = (manifest?.validation as { rejectedByReason: Record<string, number> }).rejectedByReason;
        expect(Object.fromEntries(Object.entries(byReason).filter(([, n]) => n > 0))).toEqual(want.rejectedByReason);
      } else {
        expect(rejectedFile).toBeUndefined();
      }
    }

    if (!want.quarantined) {
      // Nothing was copied anywhere: no quarantine for the day.
      expect(await readdir(path.join(t.dataDir, 'quarantine', 'clickstream', c.date)).catch(() => [])).toEqual([]);
    }
    if (want.quarantined) {
      const runs = await readdir(path.join(t.dataDir, 'quarantine', 'clickstream', c.date));
      expect(runs).toHaveLength(1);
      const dir = quarantinePath(t.dataDir, 'clickstream', c.date, runs[0] as string);
      expect((await readFile(path.join(dir, c.landAs))).equals(bytes)).toBe(true);
      expect((JSON.parse(await readFile(path.join(dir, '_reason.json'), 'utf8')) as { reason: string }).reason).toBe(want.reason);
    }

    // Nothing partial: no staging left, no version that is not whole (checked over the whole lake).
    expect(await stagingLeft()).toEqual([]);
    const report = await reconcile({ dataDir: t.dataDir, expected: versions.length > 0 ? [{ source: 'clickstream', date: c.date }] : [] });
    expect(report.problems).toEqual([]);

    if (want.retryAfterFix) {
      await land(c, Buffer.from(`user_id,product_id,event_type,timestamp,device\nu1,p1,view,${c.date}T10:00:00.000Z,web\n`));
      await job.retry('failed');
      expect(await job.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1, records: 1 });
    }
  });

  /** Edits the data of a waiting job the way Bull Board does, then lets the worker take it. */
  async function editedJob(c: PayloadCase, index: number): Promise<Outcome> {
    const job = await queue.add('ingest', { source: 'clickstream', date: '2024-06-01', trigger: 'manual' }, { jobId: `clickstream__2024-06-01__redited${index}`, delay: 3_600_000 });
    await job.updateData(caseData(c) as IngestPayload);
    await job.promote();
    return finish(job);
  }

  const payloadCase = async (c: PayloadCase): Promise<void> => {
    const partitionsBefore = await running.lake.listSources();
    const { job, result, failedReason } = await editedJob(c, corpus.payloads.indexOf(c));
    expect(result).toBeUndefined();
    if (c.expect.reason !== undefined) expect(failedReason).toBe(c.expect.reason);
    const fresh = (await Job.fromId(queue, job.id as string)) as Job;
    expect(fresh.attemptsMade).toBe(1);
    expect(await running.lake.listSources()).toEqual(partitionsBefore);
    expect(await running.lake.listVersions('clickstream', '2024-06-01')).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await stagingLeft()).toEqual([]);
  };

  for (const c of corpus.payloads) {
    if (c.productBug) it.fails(`job data edited: ${c.case} → failed for good, nothing touched (PRODUCT BUG: ${c.productBug})`, () => payloadCase(c));
    else it(`job data edited: ${c.case} → failed for good, nothing touched`, () => payloadCase(c));
  }
});
