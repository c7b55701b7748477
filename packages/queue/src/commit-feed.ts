import type { Redis } from 'ioredis';

/** The Redis stream that announces every commit and `unchanged` result of the lake. */
export function commitFeedKey(prefix: string): string {
  return `${prefix}:lake:commits`;
}

/** The field of a feed entry that holds its JSON. */
export const COMMIT_FEED_FIELD = 'commit';

/**
 * One feed entry: a partition version that is durable in the lake (its
 * manifest is written), announced after the fact. The contract downstream
 * stages rely on is in docs/commit-feed.md.
 */
export interface CommitFeedEntry {
  /** `committed`: a new version; `unchanged`: a run found the same content already committed. */
  status: 'committed' | 'unchanged';
  source: string;
  /** The logical date, YYYY-MM-DD. */
  date: string;
  version: number;
  /** URI of the version's `_manifest.json` (`file:///…`, or `s3://…` on an object store). */
  manifest: string;
  /** sha256 of the manifest's bytes: a reader checks the manifest it reads against it. */
  manifestSha256: string;
  records: number;
  rejected: number;
  /** The manifest's `committedAt` (for `unchanged`: when the kept version was committed). */
  committedAt: string;
  jobId: string;
  runId: string;
  attempt: number;
  /** When the entry was appended. */
  at: string;
}

/** A feed entry with its stream id. */
export interface CommitFeedRecord {
  id: string;
  entry: CommitFeedEntry;
}

const STRING_FIELDS = ['source', 'date', 'manifest', 'manifestSha256', 'committedAt', 'jobId', 'runId', 'at'] as const;
const COUNT_FIELDS = ['version', 'records', 'rejected', 'attempt'] as const;

/** Reads a feed entry's JSON, or says why it is not one (a reader skips and reports such entries). */
export function parseCommitFeedEntry(text: string): { entry: CommitFeedEntry } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'not an object' };
  const v = value as Record<string, unknown>;
  if (v.status !== 'committed' && v.status !== 'unchanged') return { problem: 'status must be committed or unchanged' };
  for (const k of STRING_FIELDS) if (typeof v[k] !== 'string') return { problem: `${k} must be a string` };
  for (const k of COUNT_FIELDS) if (typeof v[k] !== 'number' || !Number.isSafeInteger(v[k]) || (v[k] as number) < 0) return { problem: `${k} must be a whole number` };
  return { entry: v as unknown as CommitFeedEntry };
}

/** `[id, [field, value, …]]` replies of XRANGE/XREAD/XREADGROUP → records (entries that are not feed entries, or were trimmed, are reported). */
export function feedRecordsOf(
  raw: ReadonlyArray<[string, string[] | null]>,
  onBad: (id: string, problem: string) => void = () => undefined,
): CommitFeedRecord[] {
  const out: CommitFeedRecord[] = [];
  for (const [id, flat] of raw) {
    if (flat === null) {
      onBad(id, 'trimmed from the feed (COMMIT_FEED_MAXLEN) before it was acknowledged');
      continue;
    }
    const i = flat.indexOf(COMMIT_FEED_FIELD);
    const text = i >= 0 && i % 2 === 0 ? flat[i + 1] : undefined;
    const parsed = text === undefined ? { problem: `no ${COMMIT_FEED_FIELD} field` } : parseCommitFeedEntry(text);
    if ('entry' in parsed) out.push({ id, entry: parsed.entry });
    else onBad(id, parsed.problem);
  }
  return out;
}

/**
 * Appends to the commit feed (`XADD … MAXLEN ~ N`), capped like the audit
 * stream. The worker calls it once the manifest is durable, never before.
 */
export class CommitFeed {
  constructor(
    private readonly conn: Redis,
    private readonly prefix: string,
    private readonly maxLen: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Appends one entry; resolves to its stream id. */
  async append(input: Omit<CommitFeedEntry, 'at'>): Promise<string> {
    const entry: CommitFeedEntry = { ...input, at: this.now().toISOString() };
    const id = await this.conn.xadd(commitFeedKey(this.prefix), 'MAXLEN', '~', String(this.maxLen), '*', COMMIT_FEED_FIELD, JSON.stringify(entry));
    if (id === null) throw new Error(`XADD to ${commitFeedKey(this.prefix)} returned no id`);
    return id;
  }
}
