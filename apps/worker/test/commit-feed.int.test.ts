import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { SchemaMismatchError, TransientError, type SourceName } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { CommitFeed, CommitFeedConsumer, commitFeedKey, feedRecordsOf, type CommitFeedEntry, type CommitFeedRecord } from '@recomart/queue';
import type { Source, SourceContext } from '@recomart/sources';
import { announcingCommits } from '../src/commit-announcing-lake.js';
import { dropPrefix, makeTestEnv } from '../../../test/helpers/test-env.js';
import { startWorkerStand, type WorkerStand } from './worker-stand.js';

/** One small file whose content the test chooses per date. */
function fileSource(content: (ctx: SourceContext) => string): Source {
  return async (ctx) => {
    const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
    try {
      const body = content(ctx);
      await session.writeFile('data.txt', `test://${ctx.date}`, body);
      const r = await session.commit({ records: body.length, rejected: 1, validation: {} });
      return { status: r.status, version: r.version, records: body.length, rejected: 1, files: 1, bytes: body.length };
    } catch (err) {
      await session.abort();
      throw err;
    }
  };
}

async function feedOf(redis: Redis, prefix: string): Promise<CommitFeedRecord[]> {
  const bad: string[] = [];
  const records = feedRecordsOf(await redis.xrange(commitFeedKey(prefix), '-', '+'), (id, problem) => bad.push(`${id}: ${problem}`));
  expect(bad).toEqual([]);
  return records;
}

describe('the commit feed, written by the worker', () => {
  let stand: WorkerStand | undefined;
  const contentOf = new Map<string, string>();

  const registry: Record<SourceName, Source> = {
    clickstream: fileSource((ctx) => contentOf.get(ctx.date) ?? `clicks ${ctx.date}\n`),
    products: async (ctx) => {
      if (ctx.date === '2026-02-01') {
        // a contract breach: the staged file goes to quarantine, nothing is committed
        const session = await ctx.lake.begin({ source: ctx.source, date: ctx.date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
        await session.writeFile('pages/000001.json', 'test://page', '<html>');
        await session.quarantine('page 1 is not JSON');
        throw new SchemaMismatchError('page 1 is not JSON');
      }
      throw new TransientError('HTTP 503 from the product API');
    },
  };

  beforeAll(async () => {
    stand = await startWorkerStand('feed', registry, { concurrency: 1 });
  });
  afterAll(async () => {
    await stand?.close();
  });
  const run = (source: SourceName, date: string, nonce?: string) => (stand as WorkerStand).run(source, date, nonce);

  it('holds one entry per commit or unchanged, in commit order, and none for failed or quarantined runs', async () => {
    expect(await run('clickstream', '2026-02-01')).toBe('completed'); // committed v1
    expect(await run('clickstream', '2026-02-02')).toBe('completed'); // committed v1
    expect(await run('products', '2026-02-01')).toBe('failed'); // quarantined
    expect(await run('clickstream', '2026-02-01', 'same')).toBe('completed'); // unchanged v1
    expect(await run('products', '2026-02-02')).toBe('failed'); // failed, nothing committed
    contentOf.set('2026-02-01', 'clicks, reprocessed\n');
    expect(await run('clickstream', '2026-02-01', 'new')).toBe('completed'); // committed v2

    const { t, redis } = stand as WorkerStand;
    const feed = await feedOf(redis, t.prefix);
    const summary = feed.map(({ entry: e }) => [e.status, e.source, e.date, e.version, e.jobId]);
    expect(summary).toEqual([
      ['committed', 'clickstream', '2026-02-01', 1, 'clickstream__2026-02-01'],
      ['committed', 'clickstream', '2026-02-02', 1, 'clickstream__2026-02-02'],
      ['unchanged', 'clickstream', '2026-02-01', 1, 'clickstream__2026-02-01__rsame'],
      ['committed', 'clickstream', '2026-02-01', 2, 'clickstream__2026-02-01__rnew'],
    ]);
    const lake = openLake({ dataDir: t.dataDir });
    for (const { entry } of feed) {
      const m = await lake.readManifest(entry.source, entry.date, entry.version);
      const text = await readFile(fileURLToPath(entry.manifest), 'utf8');
      expect(createHash('sha256').update(text).digest('hex')).toBe(entry.manifestSha256);
      expect(entry).toMatchObject({ records: m?.records, rejected: 1, committedAt: m?.committedAt, attempt: 1 });
      if (entry.status === 'committed') expect(entry.runId).toBe(m?.runId);
    }
  });
});

describe('announcingCommits', () => {
  it('announces only after the manifest is on disk, and fails the run retryably when the feed does not take it', async () => {
    const t = makeTestEnv('feed-lake');
    try {
      const seen: Array<{ entry: Omit<CommitFeedEntry, 'at'>; manifestOnDisk: string }> = [];
      let down = false;
      const lake = announcingCommits(openLake({ dataDir: t.dataDir }), {
        async append(entry) {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
          seen.push({ entry, manifestOnDisk: await readFile(fileURLToPath(entry.manifest), 'utf8') });
        },
      });
      const init = { source: 'clickstream', date: '2026-02-03', runId: 'run-1', jobId: 'clickstream__2026-02-03', attempt: 1 };
      const s1 = await lake.begin(init);
      await s1.writeFile('a.csv', 'test://a', 'x');
      const r1 = await s1.commit({ records: 1, rejected: 0, validation: {} });
      expect(seen.map((s) => [s.entry.status, s.entry.version])).toEqual([['committed', 1]]);
      expect(createHash('sha256').update(seen[0]?.manifestOnDisk ?? '').digest('hex')).toBe(r1.manifestSha256);

      const quarantined = await lake.begin({ ...init, runId: 'run-2' });
      await quarantined.writeFile('a.csv', 'test://a', 'broken');
      await quarantined.quarantine('bad header');
      const aborted = await lake.begin({ ...init, runId: 'run-3' });
      await aborted.writeFile('a.csv', 'test://a', 'half');
      await aborted.abort();
      expect(seen).toHaveLength(1);

      down = true;
      const s4 = await lake.begin({ ...init, runId: 'run-4', attempt: 1 });
      await s4.writeFile('a.csv', 'test://a', 'y');
      const err = await s4.commit({ records: 1, rejected: 0, validation: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientError);
      expect((err as Error).message).toBe(
        'lake: clickstream 2026-02-03 v2 is committed but the commit feed did not take it (a retry announces it as unchanged): connect ECONNREFUSED 127.0.0.1:6379',
      );
      down = false;
      const s5 = await lake.begin({ ...init, runId: 'run-4', attempt: 2 });
      await s5.writeFile('a.csv', 'test://a', 'y');
      expect((await s5.commit({ records: 1, rejected: 0, validation: {} })).status).toBe('unchanged');
      expect(seen.map((s) => [s.entry.status, s.entry.version, s.entry.attempt])).toEqual([['committed', 1, 1], ['unchanged', 2, 2]]);
    } finally {
      t.cleanup();
    }
  });
});

describe('CommitFeedConsumer', () => {
  it('resumes after a crash mid-read without missing an entry; each group sees every entry', async () => {
    const t = makeTestEnv('feed-consumer');
    const redis = new Redis(t.config.redisUrl);
    try {
      const feed = new CommitFeed(redis, t.prefix, 1000);
      const entry = (i: number): Omit<CommitFeedEntry, 'at'> => ({
        status: 'committed',
        source: 'clickstream',
        date: `2026-03-0${i}`,
        version: 1,
        manifest: `file:///lake/raw/clickstream/2026/03/0${i}/v1/_manifest.json`,
        manifestSha256: 'a'.repeat(64),
        records: i,
        rejected: 0,
        committedAt: '2026-03-10T00:00:00.000Z',
        jobId: `clickstream__2026-03-0${i}`,
        runId: `run-${i}`,
        attempt: 1,
      });
      const ids: string[] = [];
      for (let i = 1; i <= 3; i++) ids.push(await feed.append(entry(i)));

      // a stage reads two entries, finishes the first, and dies before acknowledging the second
      const doomed = new Redis(t.config.redisUrl);
      const first = new CommitFeedConsumer(doomed, { prefix: t.prefix, group: 'features', consumer: 'features-1', count: 2 });
      const got1 = await first.read();
      expect(got1.map((r) => r.id)).toEqual(ids.slice(0, 2));
      await first.ack([ids[0] as string]);
      doomed.disconnect();
      for (let i = 4; i <= 5; i++) ids.push(await feed.append(entry(i)));

      // the restarted stage (same consumer name) gets the unacknowledged entry first, then the rest
      const processed = [ids[0] as string];
      const again = new CommitFeedConsumer(redis, { prefix: t.prefix, group: 'features', consumer: 'features-1', count: 2 });
      for (let round = 0; round < 10; round++) {
        const batch = await again.read();
        if (batch.length === 0) break;
        processed.push(...batch.map((r) => r.id));
        await again.ack(batch.map((r) => r.id));
      }
      expect(processed).toEqual(ids);
      expect(await redis.xpending(commitFeedKey(t.prefix), 'features')).toEqual([0, null, null, null]);

      // another stage has its own group and position
      const other = new CommitFeedConsumer(redis, { prefix: t.prefix, group: 'validation', consumer: 'v-1' });
      expect((await other.read()).map((r) => r.entry.records)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await dropPrefix(redis, t.prefix);
      redis.disconnect();
      t.cleanup();
    }
  });
});
