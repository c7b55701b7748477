import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { openLake, type Lake } from '@recomart/lake';
import { AuditEmitter, auditStreamKey } from '@recomart/queue';
import { makeTestEnv, type TestEnv } from '../helpers/test-env.js';
import { dropPrefix } from '../helpers/test-env.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';

/** The reconciler must be able to fail: each kind of damage it exists to catch, planted on purpose. */
describe('the reconciler catches what it promises to catch', () => {
  let t: TestEnv;
  let lake: Lake;
  let redis: Redis;

  beforeEach(async () => {
    t = makeTestEnv('f-reconciler');
    lake = openLake({ dataDir: t.dataDir });
    redis = new Redis(t.config.redisUrl);
    for (const date of ['2026-12-01', '2026-12-02']) {
      const s = await lake.begin({ source: 'clickstream', date, runId: 'r1', jobId: `clickstream__${date}`, attempt: 1 });
      await s.writeFile('events-000.csv', '/landing/x', `rows of ${date}\n`);
      await s.commit({ records: 1, rejected: 0, validation: {} });
    }
  });
  afterEach(async () => {
    await dropPrefix(redis, t.prefix);
    redis.disconnect();
    t.cleanup();
  });

  const partition = (date: string) => path.join(t.dataDir, 'raw', 'clickstream', '2026', '12', date.slice(-2));
  const expected = [{ source: 'clickstream' as const, date: '2026-12-01' }, { source: 'clickstream' as const, date: '2026-12-02' }];

  it('a consistent lake and a complete audit trail: no problems', async () => {
    const audit = new AuditEmitter(redis, t.prefix, 1000);
    await audit.emit({ type: 'started', jobId: 'clickstream__2026-12-01' });
    await audit.emit({ type: 'committed', jobId: 'clickstream__2026-12-01', version: 1 });
    await audit.emit({ type: 'failed', jobId: 'clickstream__2026-12-02', final: true, error: 'bad' });
    const report = await reconcile({ dataDir: t.dataDir, expected, before: await snapshotLake(t.dataDir), audit: { redis, prefix: t.prefix } });
    expect(report.problems).toEqual([]);
    expect(report.jobs.get('clickstream__2026-12-01')?.final).toMatchObject({ from: 'worker', type: 'committed', version: 1 });
    expect(report.jobs.get('clickstream__2026-12-02')?.final).toMatchObject({ type: 'failed', reason: 'bad' });
  });

  it('a missing partition, a version without manifest, a file added to a version, a changed file, a stray folder', async () => {
    const before = await snapshotLake(t.dataDir);
    await mkdir(path.join(partition('2026-12-01'), 'v2'));
    await writeFile(path.join(partition('2026-12-01'), 'v2', 'events-000.csv'), 'half');
    await writeFile(path.join(partition('2026-12-01'), 'v1', 'events-999.csv'), 'mixed in');
    await writeFile(path.join(partition('2026-12-02'), 'v1', 'events-000.csv'), 'rows of 2026-12-0X\n');
    await mkdir(path.join(partition('2026-12-02'), 'tmp-v3'));
    const report = await reconcile({ dataDir: t.dataDir, expected: [...expected, { source: 'products', date: '2026-12-01' }], before });
    expect(report.problems).toEqual(
      expect.arrayContaining([
        'products 2026-12-01: no committed version',
        'clickstream 2026-12-01 v2: no _manifest.json (a partial version is visible)',
        'clickstream 2026-12-01 v1: events-999.csv is on disk but not in the manifest (mixed or partial)',
        'clickstream 2026-12-02 v1: events-000.csv does not match its sha256 in the manifest',
        'clickstream 2026-12-02: tmp-v3 is not a version folder',
        expect.stringMatching(/^raw\/clickstream\/2026\/12\/02\/v1\/events-000\.csv changed: sha256 \w+ before the fault, \w+ after$/),
      ]),
    );
  });

  it('a committed file removed after the snapshot', async () => {
    const before = await snapshotLake(t.dataDir);
    await rm(path.join(partition('2026-12-02'), 'v1', 'events-000.csv'));
    const report = await reconcile({ dataDir: t.dataDir, expected: [], before });
    expect(report.problems).toEqual([
      'clickstream 2026-12-02 v1: events-000.csv is in the manifest but not on disk',
      'raw/clickstream/2026/12/02/v1/events-000.csv was committed before the fault and is gone',
    ]);
  });

  it('a job whose final outcome is not in the audit trail (only started, or a failure that will be retried)', async () => {
    const audit = new AuditEmitter(redis, t.prefix, 1000);
    await audit.emit({ type: 'started', jobId: 'clickstream__2026-12-01' });
    await audit.emit({ type: 'failed', jobId: 'clickstream__2026-12-02', final: false, error: 'ENOSPC' });
    const report = await reconcile({ dataDir: t.dataDir, expected, audit: { redis, prefix: t.prefix } });
    expect(report.problems).toEqual([
      'job clickstream__2026-12-01: no final outcome in the audit trail (events: started)',
      'job clickstream__2026-12-02: no final outcome in the audit trail (events: failed)',
    ]);
    expect(await redis.xlen(auditStreamKey(t.prefix))).toBe(2);
  });

  it('an audit sink log without the outcome', async () => {
    const audit = new AuditEmitter(redis, t.prefix, 1000);
    await audit.emit({ type: 'committed', jobId: 'clickstream__2026-12-01', version: 1 });
    const logDir = path.join(t.dataDir, 'logs', 'audit');
    const report = await reconcile({ dataDir: t.dataDir, expected: expected.slice(0, 1), audit: { redis, prefix: t.prefix }, auditLogDir: logDir });
    expect(report.problems).toEqual([`job clickstream__2026-12-01: no final outcome in the audit log ${logDir}`]);
  });
});
