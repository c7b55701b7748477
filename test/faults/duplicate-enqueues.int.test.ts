import { afterEach, describe, expect, it } from 'vitest';
import { queueEventsStreamKey } from '@recomart/audit';
import type { AuditEvent } from '@recomart/logging';
import { enqueuePartitions, type EnqueueSummary } from '@recomart/producer';
import { runRecomart } from '../helpers/run-cli.js';
import { writeClickstreamDay } from './clickstream-day.js';
import { FaultStand } from './fault-stand.js';
import { reconcile } from './reconciler.js';

let stand: FaultStand | undefined;
afterEach(async () => {
  await stand?.close();
  stand = undefined;
});

const DATE = '2026-10-01';
const JOB = `clickstream__${DATE}`;

/** How many jobs BullMQ really created under `jobId` (its lifecycle stream's `added` events). */
async function jobsCreated(s: FaultStand, jobId: string): Promise<number> {
  const entries = await s.redis.xrange(queueEventsStreamKey(s.prefix, 'clickstream'), '-', '+');
  return entries.filter(([, f]) => f[f.indexOf('event') + 1] === 'added' && f[f.indexOf('jobId') + 1] === jobId).length;
}

describe('fault 9: one partition enqueued 100 times at once, and again after its job was removed', () => {
  it('one commit; every other run is "unchanged" or skipped; a re-enqueue after removeOnComplete is skipped by the lake check or ends "unchanged"', async () => {
    const s = (stand = new FaultStand('f-dup', { JOB_KEEP_COMPLETED_COUNT: '0' }));
    await writeClickstreamDay(s.t.config.landingDir, DATE, 20_000);
    await s.spawn(['--concurrency', '4']);

    // 96 producers in this process and 4 `recomart enqueue` processes, all at once.
    const inProcess = Array.from({ length: 96 }, () => enqueuePartitions(s.queues, s.lake, [{ source: 'clickstream', date: DATE }], { trigger: 'manual' }));
    const clis = Array.from({ length: 4 }, () => runRecomart(['enqueue', '--source', 'clickstream', '--date', DATE, '--json'], s.env));
    const summaries: EnqueueSummary[] = await Promise.all(inProcess);
    for (const r of await Promise.all(clis)) {
      expect(r.code, r.stderr).toBe(0);
      summaries.push(JSON.parse(r.stdout) as EnqueueSummary);
    }
    for (const sum of summaries) expect(sum.added.length + sum.alreadyQueued.length + sum.inLake.length).toBe(1);

    // Every job BullMQ created runs to its end.
    const created = await jobsCreated(s, JOB);
    expect(created).toBeGreaterThanOrEqual(1);
    const ran = (e: AuditEvent) => e.jobId === JOB && (e.type === 'committed' || e.type === 'unchanged');
    await s.audit.waitForCount(ran, created, 60_000, `${created} run(s) of ${JOB}`);
    await s.audit.catchUp();
    const outcomes = s.audit.of(JOB).filter((e) => e.type !== 'started').map((e) => e.type);
    expect(outcomes.filter((t) => t === 'committed')).toHaveLength(1);
    expect(outcomes.filter((t) => t !== 'committed').every((t) => t === 'unchanged')).toBe(true);
    expect(s.audit.of(JOB).filter((e) => e.type === 'started')).toHaveLength(created);
    // A producer that says it added the job must have been one of those BullMQ created.
    expect(summaries.filter((x) => x.added.length === 1).length).toBeGreaterThanOrEqual(created);

    // removeOnComplete (JOB_KEEP_COMPLETED_COUNT=0) removed the job: its id is free again.
    expect(await s.queue('clickstream').getJobState(JOB)).toBe('unknown');
    const again = await runRecomart(['enqueue', '--source', 'clickstream', '--date', DATE], s.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('enqueued 0 new · 0 already queued · 1 already in the lake');
    // A client that skips the lake check (the same id added straight to the queue) runs, and changes nothing.
    await s.queue('clickstream').add('ingest', { source: 'clickstream', date: DATE, trigger: 'manual' }, { jobId: JOB });
    const runs = await s.audit.waitForCount(ran, created + 1, 60_000, 'the re-added run');
    expect(runs[created]).toMatchObject({ type: 'unchanged', version: 1 });

    const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date: DATE }], audit: { redis: s.redis, prefix: s.prefix } });
    expect(report.problems).toEqual([]);
    expect(report.versions.get(`clickstream ${DATE}`)).toEqual([1]);
  });
});
