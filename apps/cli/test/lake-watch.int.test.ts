import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CommitFeed, type CommitFeedEntry } from '@recomart/queue';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { dropPrefix, makeTestEnv } from '../../../test/helpers/test-env.js';
import { waitUntil } from '../../../test/helpers/wait-until.js';
import { lakeCommand } from '../src/commands/lake.js';

function entry(source: string, date: string): Omit<CommitFeedEntry, 'at'> {
  return {
    status: 'committed',
    source,
    date,
    version: 1,
    manifest: `file:///lake/raw/${source}/${date.replaceAll('-', '/')}/v1/_manifest.json`,
    manifestSha256: 'b'.repeat(64),
    records: 7,
    rejected: 0,
    committedAt: '2026-03-10T00:00:00.000Z',
    jobId: `${source}__${date}`,
    runId: 'run-1',
    attempt: 1,
  };
}

/** Resolves once `check` holds, polling the captured output; fails with what was seen. */
const until = (check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> =>
  waitUntil('the watched output', check, { timeoutMs, everyMs: 20, state: () => `output so far:\n${what()}` });

describe('recomart lake watch', () => {
  it('prints what the feed holds (--from-start) and then each new entry, of one source, until Ctrl-C', async () => {
    const t = makeTestEnv('lake-watch');
    const redis = new Redis(t.config.redisUrl);
    try {
      const feed = new CommitFeed(redis, t.prefix, 1000);
      await feed.append(entry('clickstream', '2026-03-01'));
      await feed.append(entry('products', '2026-03-01'));
      const io = captureIo(t.env);
      const lines = () => io.out().split('\n').filter(Boolean);
      const exit = lakeCommand.run(['watch', '--source', 'clickstream', '--from-start', '--json'], io);
      await until(() => lines().length >= 1, io.out);
      await feed.append(entry('clickstream', '2026-03-02'));
      await until(() => lines().length >= 2, io.out);
      io.abort();
      expect(await exit).toBe(0);
      expect(lines().map((l) => (JSON.parse(l) as CommitFeedEntry).date)).toEqual(['2026-03-01', '2026-03-02']);
      expect(io.err()).toBe('');
    } finally {
      await dropPrefix(redis, t.prefix);
      redis.disconnect();
      t.cleanup();
    }
  });
});
