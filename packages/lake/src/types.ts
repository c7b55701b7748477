import type { Readable, Writable } from 'node:stream';

/** One file of a committed version, as listed in its manifest. */
export interface ManifestFile {
  /** Relative to the version folder, e.g. `events-000.csv.gz` or `pages/0001.json`. */
  path: string;
  bytes: number;
  /** Lower-case hex sha256 of the bytes as stored (= as received). */
  sha256: string;
  /** Where it came from: the landing path or the URL (without secrets). */
  origin: string;
}

/** `_manifest.json`, the last file written into a version; its JSON Schema is `manifest.schema.json`. */
export interface Manifest {
  manifestVersion: 1;
  source: string;
  /** The logical date, YYYY-MM-DD. */
  date: string;
  /** 1, 2, 3 … within the partition. */
  version: number;
  runId: string;
  jobId: string;
  attempt: number;
  worker: { host: string; pid: number };
  startedAt: string;
  committedAt: string;
  files: ManifestFile[];
  records: number;
  rejected: number;
  /** The source's validation summary. */
  validation: Record<string, unknown>;
  /** Optional provenance (request log, landing listing). */
  provenance?: Record<string, unknown>;
  codeVersion: string;
}

/** Who is writing: carried into the manifest. */
export interface WriteSessionInit {
  source: string;
  date: string;
  runId: string;
  jobId: string;
  attempt: number;
  /**
   * Makes the session resumable (see `ResumableStaging`): a session begun with
   * a key takes over the staging an earlier session of the same key kept
   * (`keep`), with its finished files. Sources pass their job id.
   */
  resumeKey?: string;
}

/**
 * What an earlier session of the same `resumeKey` kept for this one: its
 * finished files (already part of this session, to be committed with it) and
 * the source's own state (e.g. where to resume, counters).
 */
export interface KeptStaging {
  files: ManifestFile[];
  state: Record<string, unknown>;
  /** When it was kept (UTC ISO). */
  keptAt: string;
}

/**
 * The resumable part of a write session: the staging of an unfinished version
 * kept for its job between attempts, until it is committed, aborted (failure
 * for good), or swept after `LAKE_STAGING_MAX_AGE_MS`. Two sessions of one key
 * never share it: the one that begins takes it over atomically.
 */
export interface ResumableStaging {
  /** What this session took over from a kept staging of its `resumeKey`; undefined when there was none. */
  readonly resumed: KeptStaging | undefined;
  /**
   * Ends the session without committing but keeps its finished files (an
   * unfinished one is dropped) and `state` for the next session begun with the
   * same `resumeKey`. Needs a `resumeKey`. Nothing becomes visible to readers.
   */
  keep(state: Record<string, unknown>): Promise<void>;
  /** The bytes of a finished file of this session (written or taken over; checked against its sha256). */
  readFile(name: string): Promise<Buffer>;
  /**
   * Removes a finished file (written or taken over) from this session's
   * staging and frees its name, so it may be written again (e.g. a kept file
   * continued by a new sink that starts with its bytes). Staging only: never
   * touches committed data. @throws InvalidInputError when `name` is not a
   * finished file of the session, or the session is not open.
   */
  removeFile(name: string): Promise<void>;
}

/** A file being streamed into a session: write to `stream`, then await `done`. */
export interface FileSink {
  readonly stream: Writable;
  /** Resolves once the bytes are flushed, hashed and counted; rejects on write errors. */
  readonly done: Promise<ManifestFile>;
}

export interface CommitInput {
  records: number;
  rejected: number;
  validation: Record<string, unknown>;
  provenance?: Record<string, unknown>;
}

export interface CommitResult {
  /** `unchanged`: the content equals the latest committed version's, nothing new was written. */
  status: 'committed' | 'unchanged';
  version: number;
  manifest: Manifest;
  /** Lower-case hex sha256 of the version's `_manifest.json` bytes, as stored. */
  manifestSha256: string;
  /** Where the version is: its folder's absolute path, or its `s3://bucket/…/v<N>/` prefix. */
  path: string;
}

/** One attempt at writing a new version of a partition. Invisible to readers until `commit`. */
export interface WriteSession extends ResumableStaging {
  readonly init: WriteSessionInit;
  /** Opens a file in staging; `name` is checked (no traversal, no `_manifest.json`). */
  createFile(name: string, origin: string): FileSink;
  /** Writes a whole small file (e.g. one API page body). */
  writeFile(name: string, origin: string, data: Uint8Array | string): Promise<ManifestFile>;
  /** fsyncs everything and publishes atomically, or reports `unchanged`. */
  commit(input: CommitInput): Promise<CommitResult>;
  /**
   * Moves the staged files, byte for byte, to `$DATA_DIR/quarantine/<source>/<date>/<runId>/`
   * (in a bucket: `<prefix>/_quarantine/<source>/<date>/<runId>/`) with `_reason.json`,
   * instead of committing. Nothing becomes visible in the lake.
   */
  quarantine(reason: string, details?: Record<string, unknown>): Promise<{ path: string }>;
  /** Drops the staging area; safe to call more than once and after commit. */
  abort(): Promise<void>;
}

export interface VerifyProblem {
  source: string;
  date: string;
  version: number;
  /** `mismatch`: the data disagrees with what the manifest claims about it (`verify --deep`). */
  kind: 'missing' | 'extra' | 'corrupt' | 'bad-manifest' | 'mismatch';
  /** Absolute path (or `s3://` URL) of the offending file. */
  path: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  versionsChecked: number;
  filesChecked: number;
  problems: VerifyProblem[];
}

export interface SweepReport {
  removed: string[];
  kept: number;
}

/** The raw lake, on a folder or in a bucket. The only code that reads or writes it. */
export interface Lake {
  /** `$DATA_DIR` */
  readonly dataDir: string;
  /** Where the lake is, for people: the folder `$DATA_DIR/raw` or `s3://bucket/prefix`. */
  readonly location: string;
  /** Where a version is (its folder, or its `s3://…/v<N>/` prefix), for people. */
  versionLocation(source: string, date: string, version: number): string;
  begin(init: WriteSessionInit): Promise<WriteSession>;
  listSources(): Promise<string[]>;
  /** Dates (YYYY-MM-DD, ascending) that have at least one committed version. */
  listPartitions(source: string, range?: { from?: string; to?: string }): Promise<string[]>;
  /** Committed version numbers, ascending. */
  listVersions(source: string, date: string): Promise<number[]>;
  /** The given version's manifest, or the latest when `version` is omitted; undefined when none. */
  readManifest(source: string, date: string, version?: number): Promise<Manifest | undefined>;
  openFile(source: string, date: string, version: number, path: string): Promise<Readable>;
  /**
   * Where a file of a version lives, as a URI another program can read:
   * `file:///…` on the folder backend (an object store gives `s3://bucket/key`).
   * `path` is a file of the manifest, or `_manifest.json` itself. Touches nothing.
   */
  locate(source: string, date: string, version: number, path: string): string;
  verify(filter?: { source?: string; date?: string }): Promise<VerifyReport>;
  /** Removes staging leftovers older than `maxAgeMs`; never touches committed versions. */
  sweep(maxAgeMs: number): Promise<SweepReport>;
}
