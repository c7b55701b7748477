import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidInputError, IngestError, TransientError } from '@recomart/jobs';
import { REASON_FILE } from './layout.js';
import { sameContent, serializeManifest } from './manifest.js';
import { checkFileName } from './names.js';
import type { ObjectStore, StreamUpload } from './object-store.js';
import { TAKEN_RE, type S3Layout } from './s3-layout.js';
import { buildManifest, checkCommitInput, checkOrigin, checkQuarantine, checkRecord, finishedFiles, SessionFileNames } from './session-rules.js';
import { STAGED_FILE_HIGH_WATER_MARK } from './staged-file.js';
import { keptRecordSchema, MAX_KEPT_BYTES } from './kept-staging.js';
import { z } from 'zod';
import type { CommitInput, CommitResult, FileSink, KeptStaging, Manifest, ManifestFile, WriteSession, WriteSessionInit } from './types.js';
import { MAX_COMMIT_RACES } from './write-session.js';

/** What an S3 session gets from its lake. */
export interface S3SessionDeps {
  store: ObjectStore;
  layout: S3Layout;
  now: () => Date;
  codeVersion: string;
  worker: { host: string; pid: number };
  /** Called with `true` once a version is claimed, `false` once this session let go of it (sweep skips live claims). */
  track(versionPrefix: string, live: boolean): void;
  /** The highest `v<N>` of the partition this lake has seen claimed or listed; 0 when none. */
  highestSeen(source: string, date: string): number;
  /** Notes a `v<N>` seen claimed (by this or another writer). */
  saw(source: string, date: string, version: number): void;
  /** Every `v<N>` of the partition, committed or only claimed (one listing). */
  versionNumbers(source: string, date: string): Promise<number[]>;
  /** The highest of `numbers` with a valid manifest, and the manifest's text. */
  latestAmong(source: string, date: string, numbers: readonly number[]): Promise<Latest | undefined>;
}

/** A committed version's manifest as read from the bucket. */
interface Latest {
  manifest: Manifest;
  text: string;
}

/** A version number this session holds. */
interface Claim {
  version: number;
  /** `…/v<N>/` */
  prefix: string;
  /** ETag of our claim object: compared again right before the manifest is written. */
  etag: string;
}

type State = 'open' | 'committing' | 'quarantining' | 'keeping' | 'committed' | 'quarantined' | 'kept' | 'aborted' | 'failed';

/** `_kept/<hash>.json`: where the kept staging of a resume key is, and the token that takes it over. */
const keptPointerSchema = z.strictObject({
  source: z.string(),
  date: z.string(),
  version: z.number().int().min(1),
  token: z.string().regex(/^[0-9a-f]{32}$/),
  keptAt: z.string(),
});
type KeptPointer = z.infer<typeof keptPointerSchema>;

/** `v<N>/_kept.json` in a bucket: the folder's kept record, plus its version and takeover token. */
const s3KeptRecordSchema = keptRecordSchema.extend({ version: z.number().int().min(1), token: z.string().regex(/^[0-9a-f]{32}$/) });
type S3KeptRecord = z.infer<typeof s3KeptRecordSchema>;

/** Largest pointer read back. */
const MAX_POINTER_BYTES = 4096;

/** `bytes` parsed as JSON and checked against `schema`; undefined when absent, not JSON or not of the shape. */
function parseSmall<T>(bytes: Buffer | undefined, schema: z.ZodType<T>): T | undefined {
  if (bytes === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(bytes.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Passes bytes through unchanged, hashing and counting them (the upload reads the other end). */
class HashingPassThrough extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor() {
    super({ highWaterMark: STAGED_FILE_HIGH_WATER_MARK, decodeStrings: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.copy().digest('hex');
  }
}

/** What a file of an S3 session gets from it. */
interface FileRunner {
  /** The file's key under the claimed version (claims on first use). */
  key(): Promise<string>;
  /** An upload error: the session fails; resolves once it cleaned up. */
  failed(err: IngestError): Promise<void>;
}

/**
 * One file of an S3 session, streamed (createFile) or whole (writeFile): waits
 * for the claim, uploads, and reports its manifest entry through `done`. An
 * upload error fails the whole session (reported once it cleaned up); a stop
 * by the session (abort, quarantine, another file's error) rejects `done`
 * with the session's reason.
 */
class SessionUpload {
  done: Promise<ManifestFile> = Promise.resolve() as unknown as Promise<ManifestFile>;
  result: ManifestFile | undefined;
  failure: Error | undefined;
  /** Bytes hashed so far. */
  bytes: () => number;
  /** Called once when the session stops the file before it finished. */
  onStop: () => void = () => undefined;
  private stopReason: Error | undefined;

  constructor(
    readonly name: string,
    readonly origin: string,
    startBytes: number,
  ) {
    this.bytes = () => startBytes;
  }

  /** A file already in the bucket (taken over from a kept staging). */
  static finished(result: ManifestFile): SessionUpload {
    const file = new SessionUpload(result.path, result.origin, result.bytes);
    file.result = result;
    file.done = Promise.resolve(result);
    return file;
  }

  run(upload: (key: string) => Promise<{ bytes: number; sha256: string }>, runner: FileRunner): void {
    this.done = (async () => {
      try {
        const key = await runner.key();
        if (this.stopReason) throw this.stopReason;
        const got = await upload(key);
        if (this.stopReason) throw this.stopReason;
        this.result = { path: this.name, bytes: got.bytes, sha256: got.sha256, origin: this.origin };
        this.bytes = () => got.bytes;
        return this.result;
      } catch (err) {
        const failure = this.stopReason ?? (err instanceof IngestError ? err : new TransientError(`lake: uploading ${JSON.stringify(this.name)} failed: ${String(err)}`, { cause: err }));
        this.failure = failure;
        this.onStop();
        if (this.stopReason === undefined && failure instanceof IngestError) await runner.failed(failure);
        throw failure;
      }
    })();
    this.done.catch(() => undefined);
  }

  stop(reason: Error): void {
    if (this.result !== undefined || this.failure !== undefined || this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.onStop();
  }
}

/**
 * One attempt at writing a new version of a partition in an S3 bucket. There
 * is no rename, so the order of writes is the protocol (docs/architecture.md):
 *
 * 1. claim `v<N>`: `_claim.json` with `If-None-Match: *` (a lost race tries
 *    N+1), with the in-flight marker `sweep` looks at;
 * 2. upload the files under `v<N>/`, hashing them as they stream;
 * 3. if their content equals the latest committed version's: remove them and
 *    the claim, report `unchanged`;
 * 4. check the claim is still ours, then write `_manifest.json` as one
 *    `PutObject` with `If-None-Match: *`: the version exists from that moment;
 * 5. remove the in-flight marker.
 *
 * `keep` leaves the finished files in place for the next session of its
 * `resumeKey`, which takes them over (`takeOver`) with one write-once
 * `_taken-<token>.json`.
 *
 * Readers only see versions with a manifest, so a writer killed anywhere
 * leaves nothing they see; `sweep` removes what it left.
 */
export class S3WriteSession implements WriteSession {
  private state: State = 'open';
  private readonly files = new Map<string, SessionUpload>();
  private readonly names = new SessionFileNames();
  private claiming: Promise<Claim> | undefined;
  /** The latest committed version as of the claim's listing, read while the files upload; `failed` if it could not be read. */
  private latestAtClaim: Promise<{ latest: Latest | undefined } | 'failed'> | undefined;
  private failure: IngestError | undefined;
  /** What this session took over from a kept staging (`takeOver`). */
  private kept: KeptStaging | undefined;
  private cleanup: Promise<void> | undefined;
  private inFlight: Promise<unknown> | undefined;
  private readonly startedAt: string;
  private readonly label: string;

  constructor(
    readonly init: WriteSessionInit,
    private readonly deps: S3SessionDeps,
  ) {
    this.startedAt = deps.now().toISOString();
    this.label = `${init.source} ${init.date}`;
  }

  private assertOpen(action: string): void {
    if (this.state === 'open') return;
    if (this.failure) throw this.failure;
    throw new InvalidInputError(`cannot ${action}: the write session for ${this.label} is already ${this.state}`);
  }

  /**
   * Claims the next free version number, once (on the first file, or at
   * commit). The number after the highest this lake has seen of the partition
   * (1 for one it has not seen) is tried at the same time as the partition is
   * listed: kept when it is the listing's highest + 1, which makes the claim
   * one round trip for a new partition or the next version of a known one;
   * given back otherwise, and the listing's highest + 1 is claimed as
   * without a guess.
   */
  private claim(): Promise<Claim> {
    this.claiming ??= (async () => {
      const { source, date } = this.init;
      const guess = this.deps.highestSeen(source, date) + 1;
      const [listing, guessed] = await Promise.allSettled([this.deps.versionNumbers(source, date), this.tryClaim(guess)]);
      if (listing.status === 'rejected') {
        if (guessed.status === 'fulfilled' && guessed.value !== 'exists') await this.giveBack(guessed.value);
        throw listing.reason;
      }
      if (guessed.status === 'rejected') throw guessed.reason;
      const listed = listing.value;
      let claim = guessed.value === 'exists' ? undefined : guessed.value;
      const highest = Math.max(0, ...listed.filter((n) => n !== guess));
      if (claim !== undefined && highest !== guess - 1) {
        // The guess is free but not the listing's highest + 1: below a number in use its version would never be
        // the latest; above, it would leave a gap.
        await this.giveBack(claim);
        claim = undefined;
      }
      // Read now, while the files go up; the commit only re-reads numbers that are newer than it.
      this.latestAtClaim = this.deps.latestAmong(source, date, listed.filter((n) => n !== claim?.version)).then(
        (latest) => ({ latest }),
        () => 'failed' as const,
      );
      // A lost guess left our marker on a number another writer holds: once that version is committed, it is litter.
      const tidy = guessed.value === 'exists' ? this.dropMarkerIfCommitted(guess) : Promise.resolve();
      try {
        for (let race = 0, version = guessed.value === 'exists' ? Math.max(guess, highest) + 1 : highest + 1; claim === undefined; race++, version++) {
          if (race >= MAX_COMMIT_RACES) throw new TransientError(`lake: lost the race for a version number of ${this.label} ${MAX_COMMIT_RACES} times`);
          const put = await this.tryClaim(version);
          if (put !== 'exists') claim = put;
        }
      } finally {
        await tidy;
      }
      this.deps.track(claim.prefix, true);
      return claim;
    })();
    return this.claiming;
  }

  /**
   * PUTs `v<N>/_claim.json` with `If-None-Match: *` and, in the same round
   * trip, the in-flight marker. After a lost race the marker names a number
   * another writer holds, which is harmless (sweep looks at that version's own
   * manifest and age) and is never deleted here.
   */
  private async tryClaim(version: number): Promise<Claim | 'exists'> {
    const { store, layout } = this.deps;
    const { source, date } = this.init;
    const prefix = layout.version(source, date, version);
    const body = JSON.stringify({ ...this.init, version, worker: this.deps.worker, claimedAt: this.deps.now().toISOString() });
    // Both settle before an error is thrown: no request of the session is left running once it failed.
    const [put, marker] = await Promise.allSettled([store.putIfAbsent(layout.claim(prefix), body), store.put(layout.inFlight(source, date, version), body)]);
    if (put.status === 'rejected') throw put.reason;
    if (marker.status === 'rejected') {
      if (put.value !== 'exists') await this.giveBack({ version, prefix, etag: put.value.etag });
      throw marker.reason;
    }
    this.deps.saw(source, date, version);
    return put.value === 'exists' ? 'exists' : { version, prefix, etag: put.value.etag };
  }

  /** Removes the in-flight marker of `v<version>` when that version has a manifest (nothing needs it then); best effort. */
  private async dropMarkerIfCommitted(version: number): Promise<void> {
    const { store, layout } = this.deps;
    const { source, date } = this.init;
    try {
      if ((await store.head(layout.manifest(layout.version(source, date, version)))) !== undefined) await store.deleteKeys([layout.inFlight(source, date, version)]);
    } catch {
      /* the next sweep removes it */
    }
  }

  /** Gives back a claim no data was written under: the claim, then its marker (best effort; else sweep removes them once old). */
  private async giveBack(claim: Claim): Promise<void> {
    const { store, layout } = this.deps;
    await store
      .deleteKeys([layout.claim(claim.prefix)])
      .then(() => store.deleteKeys([layout.inFlight(this.init.source, this.init.date, claim.version)]))
      .catch(() => undefined);
  }

  createFile(name: string, origin: string): FileSink {
    this.admit(name, origin);
    const stream = new HashingPassThrough();
    // Errors are reported through `done` (the caller may only write and await it).
    stream.on('error', () => undefined);
    const file = new SessionUpload(name, origin, stream.bytes);
    let upload: StreamUpload | undefined;
    file.bytes = () => stream.bytes;
    file.onStop = () => {
      stream.destroy();
      void upload?.abort();
    };
    file.run(async (key) => {
      upload = this.deps.store.upload(key, stream);
      await upload.done;
      if (!stream.writableFinished) throw new TransientError(`lake: file ${JSON.stringify(name)} of ${this.label} was closed before it was ended`);
      return { bytes: stream.bytes, sha256: stream.digest() };
    }, this.fileRunner(name));
    this.files.set(name, file);
    return { stream, done: file.done };
  }

  async writeFile(name: string, origin: string, data: Uint8Array | string): Promise<ManifestFile> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new InvalidInputError(`the data of file ${JSON.stringify(name)} must be a string or bytes, got ${typeof data}`);
    }
    this.admit(name, origin);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const file = new SessionUpload(name, origin, 0);
    file.run(async (key) => {
      await this.deps.store.put(key, bytes);
      return { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
    }, this.fileRunner(name));
    this.files.set(name, file);
    return file.done;
  }

  /** What a file needs from its session: its key once claimed, and the session failing on an upload error. */
  private fileRunner(name: string): FileRunner {
    return {
      key: async () => this.deps.layout.file((await this.claim()).prefix, name),
      failed: (err) => this.fail(err),
    };
  }

  /** Checks a new file's name and origin and takes the name. */
  private admit(name: string, origin: string): void {
    this.assertOpen(`create ${JSON.stringify(name)}`);
    checkFileName(name);
    checkOrigin(origin);
    this.names.add(name);
  }

  /** An upload failed: the session is dead and what it wrote goes. */
  private fail(err: IngestError): Promise<void> {
    if (!this.failure) {
      this.failure = err;
      this.state = 'failed';
    }
    return this.discard(err);
  }

  private discard(reason: Error): Promise<void> {
    this.cleanup ??= (async () => {
      await this.stopPending(reason);
      await this.release();
    })();
    return this.cleanup;
  }

  private async stopPending(reason: Error): Promise<void> {
    const open = [...this.files.values()].filter((f) => f.result === undefined && f.failure === undefined);
    for (const f of open) f.stop(reason);
    await Promise.all(open.map((f) => f.done.catch(() => undefined)));
  }

  /**
   * Gives the claimed version back: removes its objects, incomplete uploads,
   * claim and marker (the claim stays, with its `_taken-*`, when the version
   * was a kept staging taken over). Never when its manifest exists (a commit whose answer
   * was lost did happen) or cannot be checked: then `sweep` decides later.
   */
  private async release(): Promise<void> {
    const claim = this.claiming ? await this.claiming.catch(() => undefined) : undefined;
    if (claim === undefined) return;
    const { store, layout } = this.deps;
    try {
      // Three reads at once; the manifest is looked up by its own HEAD too, not only in the listing.
      const [manifest, listed, uploads] = await Promise.all([store.head(layout.manifest(claim.prefix)), store.listObjects(claim.prefix), store.listPendingUploads(claim.prefix)]);
      const objects = listed.map((o) => o.key);
      if (manifest !== undefined || objects.includes(layout.manifest(claim.prefix))) return;
      const claimKey = layout.claim(claim.prefix);
      // A number a sweep gave up on stays taken (claim and tombstone), so it is never used twice; so does a number
      // taken over from a kept staging (claim and `_taken-<token>`), so a session that read the kept pointer long ago
      // can never take it again, let alone write into a version committed under that number later.
      const abandoned = objects.includes(layout.abandoned(claim.prefix));
      const stays = (k: string) => k === claimKey || k === layout.abandoned(claim.prefix) || TAKEN_RE.test(k.slice(claim.prefix.length));
      const takenOver = objects.some((k) => TAKEN_RE.test(k.slice(claim.prefix.length)));
      await Promise.all([store.deleteKeys(objects.filter((k) => !stays(k))), ...uploads.map((u) => store.abortUpload(u))]);
      // The claim goes last: until then the number stays taken.
      await store.deleteKeys([...(abandoned || takenOver ? [] : [claimKey]), layout.inFlight(this.init.source, this.init.date, claim.version)]);
    } catch {
      /* the store is unreachable: the in-flight marker stays, and sweep removes the rest once it is old */
    } finally {
      // Nothing of this session writes there any more: a sweep (of this process too) may take what is left.
      this.deps.track(claim.prefix, false);
    }
  }

  private manifestFor(input: CommitInput, files: ManifestFile[], version: number): Manifest {
    const { worker, codeVersion } = this.deps;
    return buildManifest({ init: this.init, worker, codeVersion, startedAt: this.startedAt, committedAt: this.deps.now().toISOString() }, input, files, version);
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    this.assertOpen('commit');
    const clean = checkCommitInput(input);
    const files = finishedFiles(this.files, this.failure, 'commit');
    this.manifestFor(clean, files, 1); // refuses an invalid manifest before anything is written
    this.state = 'committing';
    return this.finishing('committing', async () => {
      const result = await this.publish(clean, files);
      this.state = 'committed';
      return result;
    });
  }

  /** Runs the session's last step (commit, keep) as its work in flight: on an error the session fails and what it wrote goes. */
  private finishing<T>(action: string, work: () => Promise<T>): Promise<T> {
    const run = (async () => {
      try {
        return await work();
      } catch (err) {
        const failure = err instanceof IngestError ? err : new TransientError(`lake: ${action} ${this.label} failed: ${String(err)}`, { cause: err });
        this.failure = failure;
        this.state = 'failed';
        await this.discard(failure).catch(() => undefined);
        throw failure;
      }
    })();
    this.inFlight = run;
    return run;
  }

  private async publish(input: CommitInput, files: ManifestFile[]): Promise<CommitResult> {
    const { store, layout } = this.deps;
    const { source, date } = this.init;
    const claim = await this.claim();
    // One round trip of waiting before the manifest: the partition's listing (for `unchanged`), the claim, the tombstone.
    const [listed, atClaim, held, abandoned] = await Promise.all([
      this.deps.versionNumbers(source, date),
      this.latestAtClaim ?? ('failed' as const),
      store.head(layout.claim(claim.prefix)),
      store.head(layout.abandoned(claim.prefix)),
    ]);
    const latest = await this.latestNow(listed, claim.version, atClaim);
    if (latest && sameContent(latest.manifest.files, files)) {
      await this.release();
      const { version } = latest.manifest;
      const manifestSha256 = createHash('sha256').update(latest.text).digest('hex');
      return { status: 'unchanged', version, manifest: latest.manifest, manifestSha256, path: store.url(layout.version(source, date, version)) };
    }
    if (held === undefined || held.etag !== claim.etag || abandoned !== undefined) {
      throw new TransientError(`lake: the claim on ${this.label} v${claim.version} was given up by a sweep (older than LAKE_STAGING_MAX_AGE_MS) before the commit`);
    }
    const manifest = this.manifestFor(input, files, claim.version);
    const manifestText = serializeManifest(manifest);
    const put = await store.putIfAbsent(layout.manifest(claim.prefix), manifestText);
    if (put === 'exists') throw new TransientError(`lake: ${store.url(layout.manifest(claim.prefix))} was written by another writer although this one held the claim`);
    this.deps.track(claim.prefix, false);
    // The version is committed; a marker left behind is removed by the next sweep.
    await store.deleteKeys([layout.inFlight(source, date, claim.version)]).catch(() => undefined);
    const manifestSha256 = createHash('sha256').update(manifestText).digest('hex');
    return { status: 'committed', version: claim.version, manifest, manifestSha256, path: store.url(claim.prefix) };
  }

  /**
   * The latest committed version as of `listed`, a listing taken now: what is
   * computed is what reading every manifest of `listed` from the highest down
   * would give. The version read at claim time is still committed (nothing
   * committed is deleted), so only numbers above it (other than this
   * session's own) are read, and usually there are none.
   */
  private async latestNow(listed: readonly number[], own: number, atClaim: { latest: Latest | undefined } | 'failed'): Promise<Latest | undefined> {
    const { source, date } = this.init;
    const others = listed.filter((n) => n !== own);
    if (atClaim === 'failed') return this.deps.latestAmong(source, date, others);
    const floor = atClaim.latest?.manifest.version ?? 0;
    const newer = others.filter((n) => n > floor);
    return newer.length === 0 ? atClaim.latest : ((await this.deps.latestAmong(source, date, newer)) ?? atClaim.latest);
  }

  async quarantine(reason: string, details?: Record<string, unknown>): Promise<{ path: string }> {
    this.assertOpen('quarantine');
    const checked = checkQuarantine(reason, details);
    this.state = 'quarantining';
    const run = this.moveToQuarantine(checked.reason, checked.details);
    this.inFlight = run;
    return run;
  }

  /**
   * Copies the finished files to `_quarantine/<source>/<date>/<runId>[.n]/`
   * beside `_reason.json` (written first, with If-None-Match so two runs never
   * share a folder), then gives the version back. Unfinished files cannot be
   * copied from an incomplete upload: the reason lists them as incomplete.
   */
  private async moveToQuarantine(reason: string, details: Record<string, unknown> | undefined): Promise<{ path: string }> {
    const { store, layout } = this.deps;
    try {
      await this.stopPending(new TransientError(`lake: the write session for ${this.label} was quarantined`));
      if (this.failure) throw this.failure;
      const claim = await this.claim();
      const files = [...this.files.values()].map((f) =>
        f.result ? { ...f.result, complete: true } : { path: f.name, origin: f.origin, bytes: f.bytes(), complete: false },
      );
      const { source, date, runId, jobId, attempt } = this.init;
      const record = {
        source,
        date,
        runId,
        jobId,
        attempt,
        worker: this.deps.worker,
        reason,
        ...(details === undefined ? {} : { details }),
        startedAt: this.startedAt,
        quarantinedAt: this.deps.now().toISOString(),
        files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
        codeVersion: this.deps.codeVersion,
      };
      const base = layout.quarantine(source, date, runId);
      for (let n = 1; n <= MAX_COMMIT_RACES; n++) {
        const target = n === 1 ? base : `${base}.${n}`;
        const put = await store.putIfAbsent(`${target}/${REASON_FILE}`, `${JSON.stringify(record, null, 2)}\n`);
        if (put === 'exists') continue;
        for (const f of files) if (f.complete) await store.copy(layout.file(claim.prefix, f.path), `${target}/${f.path}`);
        await this.release();
        this.state = 'quarantined';
        return { path: store.url(target) };
      }
      throw new TransientError(`lake: ${MAX_COMMIT_RACES} quarantine folders of run ${JSON.stringify(runId)} exist already`);
    } catch (err) {
      const failure = err instanceof IngestError ? err : new TransientError(`lake: quarantining ${this.label} failed: ${String(err)}`, { cause: err });
      this.failure = failure;
      this.state = 'failed';
      await this.discard(failure).catch(() => undefined);
      throw failure;
    }
  }

  get resumed(): KeptStaging | undefined {
    return this.kept;
  }

  /**
   * Takes over the staging an earlier session of this `resumeKey` kept, when
   * there is one (called once, by the lake, before the session is handed
   * out). The kept files stay where they were uploaded, under the kept
   * version, whose claim this session then holds. Exactly one session takes
   * a kept staging: the one whose `_taken-<token>.json` PUT (If-None-Match)
   * lands; every other starts empty and touches nothing of it. A kept
   * staging that was committed, given up by a sweep, or kept again since is
   * left alone; one whose files are gone or changed size is given back (as
   * the folder's is) and the session starts empty.
   */
  async takeOver(): Promise<void> {
    const resumeKey = this.init.resumeKey;
    if (resumeKey === undefined || this.claiming !== undefined) return;
    const { store, layout } = this.deps;
    const { source, date } = this.init;
    const pointerKey = layout.keptPointer(resumeKey);
    const pointer = parseSmall(await store.getSmall(pointerKey, MAX_POINTER_BYTES), keptPointerSchema);
    if (pointer === undefined || pointer.source !== source || pointer.date !== date) return;
    const prefix = layout.version(source, date, pointer.version);
    const body = JSON.stringify({ runId: this.init.runId, jobId: this.init.jobId, attempt: this.init.attempt, worker: this.deps.worker, takenAt: this.deps.now().toISOString() });
    if ((await store.putIfAbsent(layout.taken(prefix, pointer.token), body)) === 'exists') return;
    const [manifest, abandoned, claimHead, recordBytes, listed] = await Promise.all([
      store.head(layout.manifest(prefix)),
      store.head(layout.abandoned(prefix)),
      store.head(layout.claim(prefix)),
      store.getSmall(layout.keptRecord(prefix), MAX_KEPT_BYTES),
      store.listObjects(prefix),
    ]);
    const record = parseSmall(recordBytes, s3KeptRecordSchema);
    if (manifest !== undefined || abandoned !== undefined || claimHead === undefined || record === undefined || !this.isKeptBy(record, pointer)) {
      // Not a staging to resume (committed, given up by a sweep, or kept again since): its owner or sweep deals with it.
      await this.dropPointer(pointerKey, pointer);
      return;
    }
    const claim: Claim = { version: pointer.version, prefix, etag: claimHead.etag };
    this.claiming = Promise.resolve(claim);
    this.deps.track(prefix, true);
    this.deps.saw(source, date, pointer.version);
    const sizes = new Map(listed.map((o) => [o.key, o.size]));
    if (!record.files.every((f) => sizes.get(layout.file(prefix, f.path)) === f.bytes)) {
      // Ours, but a kept file is missing or changed size: its objects go (the number stays taken), and this session claims afresh.
      await Promise.all([this.release(), this.dropPointer(pointerKey, pointer)]);
      this.claiming = undefined;
      return;
    }
    for (const f of record.files) {
      this.files.set(f.path, SessionUpload.finished(f));
      this.names.add(f.path);
    }
    this.kept = { files: record.files.map((f) => ({ ...f })), state: record.state, keptAt: record.keptAt };
    this.latestAtClaim = this.deps
      .versionNumbers(source, date)
      .then((numbers) => this.deps.latestAmong(source, date, numbers.filter((n) => n !== pointer.version)))
      .then(
        (latest) => ({ latest }),
        () => 'failed' as const,
      );
    // The record goes (a commit never publishes it; a later keep writes a new one); `_taken-<token>` stays with the version.
    await Promise.all([this.dropPointer(pointerKey, pointer), store.deleteKeys([layout.keptRecord(prefix)])]);
  }

  /** Whether `record` is the one `pointer` names, of this session's key and partition. */
  private isKeptBy(record: S3KeptRecord, pointer: KeptPointer): boolean {
    return record.token === pointer.token && record.version === pointer.version && record.resumeKey === this.init.resumeKey && record.source === this.init.source && record.date === this.init.date;
  }

  /** Removes the pointer when it still names `pointer`'s staging (a later keep of the key may have replaced it); best effort. */
  private async dropPointer(key: string, pointer: KeptPointer): Promise<void> {
    try {
      const now = parseSmall(await this.deps.store.getSmall(key, MAX_POINTER_BYTES), keptPointerSchema);
      if (now?.token === pointer.token) await this.deps.store.deleteKeys([key]);
    } catch {
      /* sweep removes a pointer once it is older than the staging max age */
    }
  }

  /**
   * Ends the session without committing and keeps its finished files where
   * they are, under the claimed version (an unfinished file is stopped and
   * removed), for the next session of the same `resumeKey`: `_kept.json`
   * records them and `state` under a new takeover token, then the key's
   * pointer names it. Nothing becomes visible to readers; a kept staging
   * nobody takes is swept after `LAKE_STAGING_MAX_AGE_MS` like any claim.
   */
  async keep(state: Record<string, unknown>): Promise<void> {
    this.assertOpen('keep');
    const resumeKey = this.init.resumeKey;
    if (resumeKey === undefined) throw new InvalidInputError(`cannot keep the write session for ${this.label}: it was begun without a resumeKey`);
    checkRecord('kept state', state);
    this.state = 'keeping';
    return this.finishing('keeping', async () => {
      const { store, layout } = this.deps;
      const { source, date } = this.init;
      const unfinished = [...this.files.values()].filter((f) => f.result === undefined && f.failure === undefined);
      const reason = new TransientError(`lake: the write session for ${this.label} was kept without its unfinished files`);
      for (const f of unfinished) f.stop(reason);
      await Promise.all([...this.files.values()].map((f) => f.done.catch(() => undefined)));
      if (this.failure) throw this.failure;
      const claim = await this.claim();
      const dropped = [...this.files.values()].filter((f) => f.result === undefined).map((f) => f.name);
      for (const name of dropped) {
        this.files.delete(name);
        this.names.remove(name);
      }
      // A whole-file PUT that was stopped may have landed all the same.
      if (dropped.length > 0) await store.deleteKeys(dropped.map((name) => layout.file(claim.prefix, name)));
      const files = finishedFiles(this.files, this.failure, 'keep');
      const token = randomBytes(16).toString('hex');
      const keptAt = this.deps.now().toISOString();
      const record: S3KeptRecord = { resumeKey, source, date, keptAt, files, state, version: claim.version, token };
      await store.put(layout.keptRecord(claim.prefix), JSON.stringify(record));
      const pointer: KeptPointer = { source, date, version: claim.version, token, keptAt };
      await store.put(layout.keptPointer(resumeKey), JSON.stringify(pointer));
      this.state = 'kept';
      // Nothing of this session writes there any more: the claim stays, and sweep ages it like any other.
      this.deps.track(claim.prefix, false);
    });
  }

  /** The bytes of a finished file, read back from the bucket and checked against its sha256. */
  async readFile(name: string): Promise<Buffer> {
    const file = this.files.get(checkFileName(name));
    const claim = this.claiming ? await this.claiming.catch(() => undefined) : undefined;
    if (file?.result === undefined || claim === undefined) throw new InvalidInputError(`file ${JSON.stringify(name)} is not a finished file of the write session for ${this.label}`);
    const key = this.deps.layout.file(claim.prefix, name);
    const bytes = await this.deps.store.getSmall(key, file.result.bytes);
    if (bytes === undefined || bytes.byteLength !== file.result.bytes || createHash('sha256').update(bytes).digest('hex') !== file.result.sha256) {
      throw new TransientError(`lake: ${this.deps.store.url(key)} of ${this.label} changed since it was written`);
    }
    return bytes;
  }

  /** Deletes a finished file's staged object and drops it from the session. */
  async removeFile(name: string): Promise<void> {
    this.assertOpen(`remove ${JSON.stringify(name)}`);
    const file = this.files.get(checkFileName(name));
    const claim = this.claiming ? await this.claiming.catch(() => undefined) : undefined;
    if (file?.result === undefined || claim === undefined) throw new InvalidInputError(`file ${JSON.stringify(name)} is not a finished file of the write session for ${this.label}`);
    this.files.delete(name);
    this.names.remove(name);
    await this.deps.store.deleteKeys([this.deps.layout.file(claim.prefix, name)]);
  }

  async abort(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    if (this.state === 'committed' || this.state === 'quarantined' || this.state === 'kept') return;
    if (this.state === 'open') this.state = 'aborted';
    await this.discard(new TransientError(`lake: the write session for ${this.label} was aborted`));
  }
}
