import { afterEach, describe, expect, it } from 'vitest';
import { variables } from '@recomart/config';
import type { IngestJobResult } from '@recomart/queue';
import { pidOf } from '../helpers/audit-tail.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { FaultStand } from './fault-stand.js';
import { reconcile } from './reconciler.js';
import { waitForStagingProgress } from './staging-watch.js';

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

/**
 * The lock settings every deployment gets unless it sets them: the fault
 * suite's quick ones (FAULT_ENV) are replaced by the schema's defaults.
 */
const DEFAULT_LOCKS = {
  WORKER_LOCK_MS: variables.WORKER_LOCK_MS.defaultValue as string,
  WORKER_STALLED_INTERVAL_MS: variables.WORKER_STALLED_INTERVAL_MS.defaultValue as string,
};

describe('fault 17: SIGKILL of a worker mid-write with the default lock settings', () => {
  it('the other worker starts the next attempt by itself and commits exactly one version', async () => {
    const s = (stand = new FaultStand('f-recovery', DEFAULT_LOCKS));
    const date = '2026-06-02';
    const jobId = `clickstream__${date}`;
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, date, 150_000);
    const events = await s.queueEvents('clickstream');
    await Promise.all([s.spawn(), s.spawn()]);

    const job = await s.queue('clickstream').add('ingest', { source: 'clickstream', date, trigger: 'manual' }, { jobId });
    const first = await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started', 60_000, `${jobId} started`);
    const victim = pidOf(first.worker);
    const point = await waitForStagingProgress(s.dataDir, victim, Math.floor(bytes * 0.3));
    expect(point.gone, 'the victim finished staging before it could be killed').toBe(false);
    await s.kill(s.worker(victim), 'SIGKILL');
    const killedAt = Date.now();

    // No worker is started after the kill: the one already running must notice the expired lock by itself.
    // (The seconds this takes are `npm run bench`'s figure; the bound here only keeps a failure from hanging.)
    const rescue = await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started' && pidOf(e.worker) !== victim, 90_000, `${jobId} restarted on the other worker`);
    const seconds = (Date.parse(rescue.at) - killedAt) / 1000;
    await s.audit.catchUp();
    // The rescuer took it over through stall recovery (not a retry after a failure).
    expect(s.audit.of(jobId).map((e) => e.type), `rescued after ${seconds} s`).toContain('stalled');

    const result = (await job.waitUntilFinished(events, 90_000)) as IngestJobResult;
    expect(result).toMatchObject({ status: 'committed', version: 1, records: 150_000 });
    const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date }], audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    expect(report.versions.get(`clickstream ${date}`)).toEqual([1]);
    await s.audit.catchUp();
    const commits = s.audit.of(jobId).filter((e) => e.type === 'committed' || e.type === 'unchanged');
    expect(commits.map((e) => `${e.type}@${pidOf(e.worker) === victim ? 'victim' : 'rescuer'}`)).toEqual(['committed@rescuer']);
  });
});
