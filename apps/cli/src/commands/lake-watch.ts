import { boolFlag, parseFlags, stringFlag, type CommandIo } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { checkSourceName } from '@recomart/lake';
import { commitFeedKey, connectOrExplain, createProducerConnection, feedRecordsOf, type CommitFeedEntry } from '@recomart/queue';

export const WATCH_HELP = `Usage: recomart lake watch [--source S] [--from-start] [--json]

Follows the lake's commit feed (<QUEUE_PREFIX>:lake:commits, see
docs/commit-feed.md): one line per commit or unchanged result, as the workers
announce them, until Ctrl-C. Reads only; it acknowledges nothing for anyone.

Options:
  --source S     only this source
  --from-start   first print what the feed still holds, then follow
  --json         one feed entry as JSON per line on stdout`;

/** How long one blocking read waits before it checks for Ctrl-C again. */
const BLOCK_MS = 1000;

function line(e: CommitFeedEntry): string {
  return `${e.at}  ${e.status.padEnd(9)}  ${e.source} ${e.date} v${e.version}  records ${e.records}  rejected ${e.rejected}  job ${e.jobId}  ${e.manifest}`;
}

/** `recomart lake watch`: prints commit feed entries until the signal aborts. */
export async function watch(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake watch', argv, { source: { type: 'string' }, 'from-start': { type: 'boolean' }, json: { type: 'boolean' } });
  const raw = stringFlag(f, 'source');
  const source = raw === undefined ? undefined : checkSourceName(raw, '--source');
  const json = boolFlag(f, 'json');
  const config = loadConfig(io.env);
  const conn = createProducerConnection(config.redisUrl, 'recomart-lake-watch');
  try {
    await connectOrExplain(conn, config.redisUrl);
    const key = commitFeedKey(config.queuePrefix);
    // '$' is resolved once: the newest id now, so nothing appended from here on is missed
    let cursor = boolFlag(f, 'from-start') ? '0' : ((await conn.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0');
    while (!io.signal.aborted) {
      const reply = await conn.xread('COUNT', 100, 'BLOCK', BLOCK_MS, 'STREAMS', key, cursor);
      const raw = reply?.[0]?.[1] ?? [];
      if (raw.length === 0) continue;
      cursor = (raw[raw.length - 1] as [string, string[]])[0];
      const records = feedRecordsOf(raw, (id, problem) => io.stderr.write(`recomart lake watch: entry ${id} skipped: ${problem}\n`));
      for (const { entry } of records) {
        if (source !== undefined && entry.source !== source) continue;
        io.stdout.write(json ? `${JSON.stringify(entry)}\n` : `${line(entry)}\n`);
      }
    }
    return 0;
  } finally {
    conn.disconnect();
  }
}
