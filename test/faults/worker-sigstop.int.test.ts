import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { IngestJobResult } from '@recomart/queue';
import { pidOf } from '../helpers/audit-tail.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { faultRandom } from './fault-seed.js';
import { FaultStand } from './fault-stand.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';
import { stagingNow, waitForStagingProgress } from './staging-watch.js';

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

describe('fault 3: a worker frozen (SIGSTOP) past its lock, then resumed (SIGCONT)', () => {
  it('two attempts write at once; one version is committed and the other attempt reports "unchanged"', async () => {
    const rnd = faultRandom();
    const s = (stand = new FaultStand('f-sigstop'));
    const date = '2026-05-02';
    const jobId = `clickstream__${date}`;
    await writeClickstreamDay(s.t.config.landingDir, '2026-05-01', 2000);
    const { bytes } = await writeClickstreamDay(s.t.config.landingDir, date, 150_000);
    const events = await s.queueEvents('clickstream');
    await s.spawn();
    const earlier = await s.queue('clickstream').add('ingest', { source: 'clickstream', date: '2026-05-01', trigger: 'manual' }, { jobId: 'clickstream__2026-05-01' });
    await earlier.waitUntilFinished(events, 60_000);
    const before = await snapshotLake(s.dataDir);

    const job = await s.queue('clickstream').add('ingest', { source: 'clickstream', date, trigger: 'manual' }, { jobId });
    const firstStart = await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started');
    const frozen = s.worker(pidOf(firstStart.worker));
    await waitForStagingProgress(s.dataDir, frozen.pid, Math.floor(bytes * rnd.between(0.1, 0.6)));
    frozen.child.kill('SIGSTOP');
    const frozenStaging = await stagingNow(s.dataDir);

    // Another worker finds the lock expired, takes the job over and starts writing it again.
    const rescuer = await s.spawn();
    await s.audit.waitFor((e) => e.jobId === jobId && e.type === 'started' && pidOf(e.worker) === rescuer.pid);
    await waitForStagingProgress(s.dataDir, rescuer.pid, Math.floor(bytes * 0.05), { ignore: frozenStaging });
    // Both attempts have a staging folder now: they overlap.
    const overlapping = [...(await stagingNow(s.dataDir))].map((dir) => path.basename(dir).split('-')[1]);
    expect(overlapping).toEqual(expect.arrayContaining([String(frozen.pid), String(rescuer.pid)]));
    frozen.child.kill('SIGCONT');

    const result = (await job.waitUntilFinished(events, 60_000)) as IngestJobResult;
    expect(['committed', 'unchanged']).toContain(result.status);
    // Wait until the resumed attempt has reported its own outcome too.
    await s.audit.waitFor((e) => e.jobId === jobId && pidOf(e.worker) === frozen.pid && ['committed', 'unchanged', 'failed'].includes(e.type), 60_000, 'the resumed attempt to finish');
    await s.audit.catchUp();
    const outcomes = s.audit
      .of(jobId)
      .filter((e) => e.type === 'committed' || e.type === 'unchanged' || e.type === 'failed')
      .map((e) => `${e.type}@v${String(e.version)}`)
      .sort();
    expect(outcomes, `seed ${rnd.seed}`).toEqual(['committed@v1', 'unchanged@v1']);

    const report = await reconcile({
      dataDir: s.dataDir,
      expected: [
        { source: 'clickstream', date: '2026-05-01' },
        { source: 'clickstream', date },
      ],
      before,
      audit: { redis: s.redis, prefix: s.prefix },
    });
    expect(report.problems, `seed ${rnd.seed}`).toEqual([]);
    expect(report.versions.get(`clickstream ${date}`)).toEqual([1]);
    expect(report.staging).toEqual([]);
  });
});
