import type { Redis } from 'ioredis';
import { commitFeedKey, feedRecordsOf, type CommitFeedRecord } from './commit-feed.js';

/** Options of a consumer in a consumer group of the commit feed. */
export interface CommitFeedConsumerOptions {
  /** QUEUE_PREFIX of the lake's workers. */
  prefix: string;
  /** The downstream stage: one group per stage, every group sees every entry. */
  group: string;
  /** This process within the group: a restarted process uses the same name to get back what it had not acknowledged. */
  consumer: string;
  /** Entries per read. @defaultValue 100 */
  count?: number;
  /** Where a new group starts: `0` = everything still in the feed, `$` = only what comes next. @defaultValue '0' */
  startAt?: '0' | '$';
  /** Told about entries that are not feed entries (they are acknowledged and skipped). */
  onBad?: (id: string, problem: string) => void;
}

/**
 * At-least-once reading of the commit feed through a Redis consumer group:
 * `read()` first hands back this consumer's delivered-but-unacknowledged
 * entries (what a crash left), then new ones; `ack()` after the work is done.
 * An entry is lost only if the feed's cap trims it before it is acknowledged.
 */
export class CommitFeedConsumer {
  private readonly key: string;
  private readonly count: number;
  private ready: Promise<void> | undefined;
  /** True while entries delivered before this process started may still be pending. */
  private backlog = true;

  constructor(
    private readonly conn: Redis,
    private readonly options: CommitFeedConsumerOptions,
  ) {
    this.key = commitFeedKey(options.prefix);
    this.count = options.count ?? 100;
  }

  /** Creates the group (and the stream) when missing; an existing group keeps its position. */
  private ensureGroup(): Promise<void> {
    this.ready ??= this.conn
      .xgroup('CREATE', this.key, this.options.group, this.options.startAt ?? '0', 'MKSTREAM')
      .then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof Error && err.message.startsWith('BUSYGROUP')) return;
          this.ready = undefined;
          throw err;
        },
      );
    return this.ready;
  }

  /**
   * The next entries for this consumer: its pending ones first, then new ones,
   * waiting up to `blockMs` for new ones (0 = do not wait). Resolves to [] when none came.
   */
  async read(blockMs = 0): Promise<CommitFeedRecord[]> {
    await this.ensureGroup();
    if (this.backlog) {
      const pending = await this.readGroup('0');
      if (pending.length > 0) return pending;
      this.backlog = false;
    }
    return this.readGroup('>', blockMs);
  }

  /** `0`: this consumer's pending entries; `>`: entries never delivered to the group. */
  private async readGroup(from: '0' | '>', blockMs = 0): Promise<CommitFeedRecord[]> {
    const args: Array<string | number> = ['GROUP', this.options.group, this.options.consumer, 'COUNT', this.count];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.key, from);
    const reply = (await this.conn.call('XREADGROUP', ...args)) as Array<[string, Array<[string, string[] | null]>]> | null;
    const raw = reply?.[0]?.[1] ?? [];
    const bad: string[] = [];
    const records = feedRecordsOf(raw, (id, problem) => {
      bad.push(id);
      this.options.onBad?.(id, problem);
    });
    if (bad.length > 0) await this.conn.xack(this.key, this.options.group, ...bad);
    return records;
  }

  /** Marks entries done; they are not delivered to this group again. */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.conn.xack(this.key, this.options.group, ...ids);
  }
}
