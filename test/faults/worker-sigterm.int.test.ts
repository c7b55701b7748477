import { afterEach, describe, expect, it } from 'vitest';
import type { IngestJobResult } from '@recomart/queue';
import { pidOf } from '../helpers/audit-tail.js';
import type { WorkerProcess } from '../helpers/worker-processes.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { FaultStand } from './fault-stand.js';
import { reconcile } from './reconciler.js';
import { waitForStagingProgress } from './staging-watch.js';

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

/** Resolves once the worker has logged `event` (e.g. "worker-stopping"). */
function logged(w: WorkerProcess, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (w.output().includes(`"event":"${event}"`)) {
        w.child.stdout?.off('data', check);
        resolve();
      }
    };
    w.child.stdout?.on('data', check);
    void w.exited.then(() => (w.output().includes(`"event":"${event}"`) ? resolve() : reject(new Error(`worker exited without logging ${event}`))));
    check();
  });
}

const clickJob = (date: string) => ({ source: 'clickstream' as const, date, trigger: 'manual' as const });

describe('fault 4: SIGTERM to a worker during a long job', () => {
  it('within the grace period: the worker finishes the job it has, then exits 0', async () => {
    const s = (stand = new FaultStand('f-sigterm'));
    const date = '2026-06-01';
    const jobId = `clickstream__${date}`;
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, date, 150_000);
    const events = await s.queueEvents('clickstream');
    const a = await s.spawn([], { SHUTDOWN_GRACE_MS: '60000' });
    const job = await s.queue('clickstream').add('ingest', clickJob(date), { jobId });
    await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started');
    await waitForStagingProgress(s.dataDir, a.pid, Math.floor(bytes * 0.2));
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await job.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1, records: 150_000 });
    await s.audit.catchUp();
    expect(s.audit.of(jobId).map((e) => `${e.type}@${pidOf(e.worker)}`)).toEqual([`started@${a.pid}`, `committed@${a.pid}`]);

    const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date }], audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    expect(report.staging).toEqual([]);
  });

  // BullMQ 6.7 does not re-check `closing` after its blocking wait for a job, so a job that lands
  // just as close() starts can still be handed to the stopping worker; the runtime then puts it
  // straight back on the wait list (job.moveToWait + WaitingError) without starting it.
  it('a job enqueued while the worker stops: the stopping worker leaves it, another runs it exactly once', async () => {
    const s = (stand = new FaultStand('f-sigterm-new'));
    const long = '2026-06-01';
    const next = '2026-06-02';
    const nextId = `clickstream__${next}`;
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, long, 150_000);
    await writeClickstreamDay(s.t.config.landingDir, next, 1000);
    const events = await s.queueEvents('clickstream');
    const a = await s.spawn(['--concurrency', '2'], { SHUTDOWN_GRACE_MS: '60000' });

    const longJob = await s.queue('clickstream').add('ingest', clickJob(long), { jobId: `clickstream__${long}` });
    await s.audit.waitFor((e) => e.jobId === longJob.id && e.type === 'started');
    await waitForStagingProgress(s.dataDir, a.pid, Math.floor(bytes * 0.2));
    a.child.kill('SIGTERM');
    await logged(a, 'worker-stopping');
    // A free slot, a waiting job: a stopping worker must leave it alone.
    const nextJob = await s.queue('clickstream').add('ingest', clickJob(next), { jobId: nextId });

    expect(await a.exited).toBe(0);
    expect(await longJob.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1 });
    await s.audit.catchUp();
    expect(s.audit.of(nextId)).toEqual([]);
    expect(await nextJob.getState()).toBe('waiting');
    await s.spawn();
    expect(await nextJob.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1 });
    await s.audit.catchUp();
    expect(s.audit.of(nextId).map((e) => e.type)).toEqual(['started', 'committed']);

    const report = await reconcile({ dataDir: s.dataDir, expected: [long, next].map((date) => ({ source: 'clickstream' as const, date })), audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
  });

  it('grace too short: the job is aborted as retryable, nothing is published, and another worker commits it', async () => {
    const s = (stand = new FaultStand('f-sigterm-cut'));
    const date = '2026-06-03';
    const jobId = `clickstream__${date}`;
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, date, 300_000);
    const events = await s.queueEvents('clickstream');
    const a = await s.spawn([], { SHUTDOWN_GRACE_MS: '1' });
    const job = await s.queue('clickstream').add('ingest', clickJob(date), { jobId });
    await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started');
    await waitForStagingProgress(s.dataDir, a.pid, Math.floor(bytes * 0.1));
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);

    const cut = await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'failed');
    expect(cut).toMatchObject({ final: false, errorClass: 'TransientError' });
    expect(String(cut.error)).toContain(`clickstream/${date}/events-000.csv`);
    expect(await s.lake.listVersions('clickstream', date)).toEqual([]);

    const b = await s.spawn();
    const result = (await job.waitUntilFinished(events, 60_000)) as IngestJobResult;
    expect(result).toMatchObject({ status: 'committed', version: 1, records: 300_000 });
    await s.audit.catchUp();
    expect(pidOf(s.audit.of(jobId).find((e) => e.type === 'committed')?.worker)).toBe(b.pid);

    const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date }], audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    expect(report.versions.get(`clickstream ${date}`)).toEqual([1]);
    expect(report.staging).toEqual([]);
  });
});
