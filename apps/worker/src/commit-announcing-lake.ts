import { TransientError } from '@recomart/jobs';
import { MANIFEST_FILE, type CommitInput, type CommitResult, type Lake, type WriteSession } from '@recomart/lake';
import type { CommitFeedEntry } from '@recomart/queue';

/** Where commits are announced (a `CommitFeed`, or a collector in tests). */
export interface CommitAnnouncer {
  append(entry: Omit<CommitFeedEntry, 'at'>): Promise<unknown>;
}

/**
 * A write session whose `commit` announces its result once the lake has made
 * it durable (the lake resolves `commit` only after the manifest and the
 * version folder are fsynced), and never for a session that did not commit
 * (aborted, quarantined, failed).
 */
class AnnouncingSession implements WriteSession {
  constructor(
    private readonly inner: WriteSession,
    private readonly lake: Lake,
    private readonly feed: CommitAnnouncer,
  ) {}

  get init(): WriteSession['init'] {
    return this.inner.init;
  }

  get resumed(): WriteSession['resumed'] {
    return this.inner.resumed;
  }

  keep(state: Record<string, unknown>): Promise<void> {
    return this.inner.keep(state);
  }

  readFile(name: string): Promise<Buffer> {
    return this.inner.readFile(name);
  }

  removeFile(name: string): Promise<void> {
    return this.inner.removeFile(name);
  }

  createFile(name: string, origin: string): ReturnType<WriteSession['createFile']> {
    return this.inner.createFile(name, origin);
  }

  writeFile(name: string, origin: string, data: Uint8Array | string): ReturnType<WriteSession['writeFile']> {
    return this.inner.writeFile(name, origin, data);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    const result = await this.inner.commit(input);
    const { source, date, jobId, runId, attempt } = this.inner.init;
    const m = result.manifest;
    try {
      await this.feed.append({
        status: result.status,
        source,
        date,
        version: result.version,
        manifest: this.lake.locate(source, date, result.version, MANIFEST_FILE),
        manifestSha256: result.manifestSha256,
        records: m.records,
        rejected: m.rejected,
        committedAt: m.committedAt,
        jobId,
        runId,
        attempt,
      });
    } catch (err) {
      throw new TransientError(
        `lake: ${source} ${date} v${result.version} is ${result.status === 'committed' ? 'committed' : 'unchanged'} but the commit feed did not take it (a retry announces it as unchanged): ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    return result;
  }

  quarantine(reason: string, details?: Record<string, unknown>): ReturnType<WriteSession['quarantine']> {
    return this.inner.quarantine(reason, details);
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }
}

/**
 * The lake as the worker's sources see it: every commit and every
 * `unchanged` result is appended to the commit feed after it is durable. A
 * feed that cannot be reached fails the job retryably; the retry finds the
 * content committed and announces it as `unchanged`, so every version is
 * announced at least once.
 */
export function announcingCommits(lake: Lake, feed: CommitAnnouncer): Lake {
  return {
    get dataDir() {
      return lake.dataDir;
    },
    get location() {
      return lake.location;
    },
    versionLocation: (source, date, version) => lake.versionLocation(source, date, version),
    begin: async (init) => new AnnouncingSession(await lake.begin(init), lake, feed),
    listSources: () => lake.listSources(),
    listPartitions: (source, range) => lake.listPartitions(source, range),
    listVersions: (source, date) => lake.listVersions(source, date),
    readManifest: (source, date, version) => lake.readManifest(source, date, version),
    openFile: (source, date, version, file) => lake.openFile(source, date, version, file),
    locate: (source, date, version, file) => lake.locate(source, date, version, file),
    verify: (filter) => lake.verify(filter),
    sweep: (maxAgeMs) => lake.sweep(maxAgeMs),
  };
}
