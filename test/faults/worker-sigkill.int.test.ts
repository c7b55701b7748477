import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Job } from 'bullmq';
import type { IngestJobResult } from '@recomart/queue';
import { pidOf } from '../helpers/audit-tail.js';
import { BIN, ROOT } from '../helpers/run-cli.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { faultRandom } from './fault-seed.js';
import { FaultStand } from './fault-stand.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';
import { stagingNow, waitForStagingProgress } from './staging-watch.js';

/** Rows of the "large" partition: ~7 MB, long enough to be killed mid-write. */
const BIG_ROWS = 150_000;

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

function payload(date: string): { source: 'clickstream'; date: string; trigger: 'manual' } {
  return { source: 'clickstream', date, trigger: 'manual' };
}

/**
 * Waits for the job's next `started` event from a worker not in `exclude`,
 * lets that worker stage `fraction` of the file, and SIGKILLs it.
 * @returns the victim's pid and how far it got.
 */
async function killWhileWriting(s: FaultStand, jobId: string, fileBytes: number, fraction: number, exclude: ReadonlySet<number>): Promise<{ pid: number; bytes: number; gone: boolean }> {
  const ignore = await stagingNow(s.dataDir);
  const started = await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started' && !exclude.has(pidOf(e.worker)), 60_000, `${jobId} started`);
  const pid = pidOf(started.worker);
  const point = await waitForStagingProgress(s.dataDir, pid, Math.floor(fileBytes * fraction), { ignore });
  await s.kill(s.worker(pid), 'SIGKILL');
  return { pid, ...point };
}

describe('fault 1: SIGKILL of a worker while it writes a large clickstream partition', () => {
  it('at random points: each job is recovered by another worker, exactly one complete version, older data untouched, every outcome audited', async () => {
    const rnd = faultRandom();
    const s = (stand = new FaultStand('f-sigkill'));
    const landing = s.t.config.landingDir;
    await writeClickstreamDay(landing, '2026-03-01', 2000);
    const dates = ['2026-03-02', '2026-03-03', '2026-03-04'];
    const sizes = new Map<string, number>();
    for (const d of dates) sizes.set(d, (await writeClickstreamDay(landing, d, BIG_ROWS)).bytes);
    const events = await s.queueEvents('clickstream');
    await Promise.all([s.spawn(), s.spawn()]);

    // Data committed before any fault.
    const first = await s.queue('clickstream').add('ingest', payload('2026-03-01'), { jobId: 'clickstream__2026-03-01' });
    expect(await first.waitUntilFinished(events, 60_000)).toMatchObject({ status: 'committed', version: 1 });
    const before = await snapshotLake(s.dataDir);

    const points: string[] = [];
    for (const [i, date] of dates.entries()) {
      const jobId = `clickstream__${date}`;
      // Random points while the file is staged, and the last one once every byte is staged (fsync, manifest, rename).
      const fraction = i === dates.length - 1 ? 1 : rnd.next();
      const job = await s.queue('clickstream').add('ingest', payload(date), { jobId });
      const victim = await killWhileWriting(s, jobId, sizes.get(date) as number, fraction, new Set());
      points.push(`${date}: killed at ${victim.bytes} of ${sizes.get(date)} bytes${victim.gone ? ' (staging already published)' : ''}`);
      await s.spawn();
      const result = (await job.waitUntilFinished(events, 60_000)) as IngestJobResult;
      expect(['committed', 'unchanged'], `seed ${rnd.seed}; ${points.join('; ')}`).toContain(result.status);
      expect(result.version).toBe(1);
      await s.audit.catchUp();
      const finals = s.audit.of(jobId).filter((e) => e.type === 'committed' || e.type === 'unchanged');
      expect(finals.length, `seed ${rnd.seed}`).toBeGreaterThan(0);
      // Killed mid-write, the job is recovered by another worker (which commits it). Killed once every byte was
      // staged, the victim may have published first (the rescuer then finds "unchanged"), or even finished the job.
      if (fraction < 1) expect(finals.map((e) => pidOf(e.worker)), `seed ${rnd.seed}`).not.toContain(victim.pid);
      if (fraction < 1) expect(finals.map((e) => e.type), `seed ${rnd.seed}`).toEqual(['committed']);
    }

    const report = await reconcile({
      dataDir: s.dataDir,
      expected: ['2026-03-01', ...dates].map((date) => ({ source: 'clickstream' as const, date })),
      before,
      audit: { redis: s.redis, prefix: s.prefix },
    });
    expect(report.problems, `seed ${rnd.seed}; ${points.join('; ')}`).toEqual([]);
    for (const date of dates) {
      expect(report.versions.get(`clickstream ${date}`), `seed ${rnd.seed}; ${points.join('; ')}`).toEqual([1]);
      expect(report.jobs.get(`clickstream__${date}`)?.final?.type).toMatch(/^(committed|unchanged|completed)$/);
      const manifest = await s.lake.readManifest('clickstream', date);
      expect(manifest?.records).toBe(BIG_ROWS);
    }
  });
});

describe('fault 2: SIGKILL twice on the same job with WORKER_MAX_STALLED_COUNT=1', () => {
  it('the job fails for good with the stall reason, nothing partial is visible; an operator retry commits it; the audit log has it all', async () => {
    const rnd = faultRandom();
    const s = (stand = new FaultStand('f-stall', { WORKER_MAX_STALLED_COUNT: '1', AUDIT_FSYNC_EVERY_MS: '50' }));
    const date = '2026-04-01';
    const jobId = `clickstream__${date}`;
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, date, BIG_ROWS);
    const sink = spawn(process.execPath, [BIN, 'audit-sink'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const sinkExited = new Promise<number | null>((resolve) => sink.once('exit', (code) => resolve(code)));
    try {
      const events = await s.queueEvents('clickstream');
      await Promise.all([s.spawn(), s.spawn()]);
      const job = await s.queue('clickstream').add('ingest', payload(date), { jobId });
      const failed = job.waitUntilFinished(events, 60_000).then(
        () => 'completed',
        (err: Error) => err.message,
      );

      // Both kills land before the file is fully staged, so neither attempt can have published anything.
      const killed = new Set<number>();
      const first = await killWhileWriting(s, jobId, bytes, rnd.between(0.05, 0.5), killed);
      killed.add(first.pid);
      await s.spawn();
      const second = await killWhileWriting(s, jobId, bytes, rnd.between(0.05, 0.5), killed);
      killed.add(second.pid);
      await s.spawn();

      expect(await failed, `seed ${rnd.seed}`).toBe('job stalled more than allowable limit');
      const failedJob = await Job.fromId(s.queue('clickstream'), jobId);
      expect(failedJob?.failedReason).toBe('job stalled more than allowable limit');
      expect(await s.lake.listVersions('clickstream', date)).toEqual([]);
      const midway = await reconcile({ dataDir: s.dataDir, expected: [], audit: { redis: s.redis, prefix: s.prefix, jobIds: [jobId] } });
      expect(midway.problems).toEqual([]);
      expect(midway.jobs.get(jobId)?.final).toMatchObject({ from: 'queue', type: 'failed', reason: 'job stalled more than allowable limit' });

      // The operator retries it (as Bull Board's "retry" does).
      await failedJob?.retry('failed');
      const result = (await (failedJob as Job).waitUntilFinished(events, 60_000)) as IngestJobResult;
      expect(result).toMatchObject({ status: 'committed', version: 1, records: BIG_ROWS });
    } finally {
      sink.kill('SIGTERM');
      expect(await sinkExited).toBe(0);
    }

    const report = await reconcile({
      dataDir: s.dataDir,
      expected: [{ source: 'clickstream', date }],
      audit: { redis: s.redis, prefix: s.prefix },
      auditLogDir: path.join(s.dataDir, 'logs', 'audit'),
    });
    expect(report.problems, `seed ${rnd.seed}`).toEqual([]);
    expect(report.versions.get(`clickstream ${date}`)).toEqual([1]);
    const trail = report.jobs.get(jobId);
    expect(trail?.terminal.map((t) => `${t.from}:${t.type}`)).toEqual(['queue:failed', 'worker:committed', 'queue:completed']);
    expect(trail?.events.filter((e) => e.type === 'started')).toHaveLength(3);
  });
});
