import { createHash } from 'node:crypto';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { InvalidInputError, TransientError, type IngestError } from '@recomart/jobs';
import { LAKE_FOLDER_MODE, type LakeFileSystem } from './file-system.js';
import { FileSyncer } from './file-syncer.js';
import { KEPT_FILE, keptRecordText, keptStagingDir } from './kept-staging.js';
import { errorCode, ioFailure } from './lake-errors.js';
import { MANIFEST_FILE, MANIFEST_SHA256_FILE, REASON_FILE, manifestSha256Line, partitionPath, quarantinePath, resolveInside, stagingRoot, versionFilePath } from './layout.js';
import { sameContent, serializeManifest, sortFiles } from './manifest.js';
import { checkFileName } from './names.js';
import { exists, latestVersion } from './partition-reader.js';
import { StagedFile, WholeStagedFile, type SessionFile, type StagedFileOptions } from './staged-file.js';
import { hashFile } from './verify.js';
import { buildManifest, checkCommitInput, checkOrigin, checkQuarantine, checkRecord, finishedFiles, SessionFileNames } from './session-rules.js';
import type { CommitInput, CommitResult, FileSink, KeptStaging, Manifest, ManifestFile, WriteSession, WriteSessionInit } from './types.js';

/**
 * How many times one commit re-reads the partition after losing the race for
 * a version number before giving up (retryably). Each loss means another
 * writer committed, so this bounds starvation, not progress.
 * @defaultValue 1000
 */
export const MAX_COMMIT_RACES = 1000;

/** How many same-named quarantine folders of one run may pile up (`<runId>`, `<runId>.2` …). */
const MAX_QUARANTINE_SUFFIX = 1000;

/** What a session gets from its lake. */
export interface WriteSessionDeps {
  dataDir: string;
  fs: LakeFileSystem;
  now: () => Date;
  codeVersion: string;
  worker: { host: string; pid: number };
  /** This session's private staging folder (not created yet). */
  stagingDir: string;
  /** Called with `true` when the staging folder is created, `false` once it is gone (sweep skips live sessions). */
  track(stagingDir: string, live: boolean): void;
  /** Makes the staging root (`raw/.staging`) exist, its sub-folders spread (`spreadSubfolders`, once a lake). */
  prepareStagingRoot(): Promise<void>;
  /** A kept staging already moved into `stagingDir` (`takeKeptStaging`): its files are this session's. */
  resumed?: KeptStaging;
}

type State = 'open' | 'committing' | 'quarantining' | 'keeping' | 'committed' | 'quarantined' | 'kept' | 'aborted' | 'failed';

/** A finished file taken over from a kept staging: already on disk and fsynced. */
class KeptFile implements SessionFile {
  readonly done: Promise<ManifestFile>;
  readonly closed = Promise.resolve();
  readonly isClosed = true;
  readonly failure = undefined;
  readonly ioError = undefined;

  constructor(
    readonly options: StagedFileOptions,
    readonly result: ManifestFile,
  ) {
    this.done = Promise.resolve(result);
  }

  stop(): void {}

  progress(): { bytes: number; sha256: string } {
    return { bytes: this.result.bytes, sha256: this.result.sha256 };
  }
}

/** Error codes of a rename onto a version folder that another writer took first. */
const LOST_RACE_CODES = new Set(['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR']);


/**
 * One attempt at writing a new version of a partition on the local
 * filesystem. Files stream into `raw/.staging/<id>/`; `commit()` fsyncs them
 * and renames the whole folder to `v<N>` (no-clobber: the rename fails when
 * another writer took `v<N>` first, and then this one tries the next number),
 * unless the content equals the latest version's.
 */
export class FsWriteSession implements WriteSession {
  private state: State = 'open';
  private readonly files = new Map<string, SessionFile>();
  /** Folders inside staging that hold files (fsynced before publishing). */
  private readonly subdirs = new Set<string>();
  private readonly names = new SessionFileNames();
  /** Staging sub-folders made (or being made), so each is made once, not once per file. */
  private readonly madeDirs = new Map<string, Promise<unknown>>();
  /** fsyncs finished files in batches, in the background; all of them before publishing. */
  private readonly syncer = new FileSyncer();
  private staging: Promise<void> | undefined;
  private failure: IngestError | undefined;
  private cleanup: Promise<void> | undefined;
  /** A commit or quarantine under way (abort waits for it). */
  private inFlight: Promise<unknown> | undefined;
  private readonly startedAt: string;
  private readonly label: string;

  constructor(
    readonly init: WriteSessionInit,
    private readonly deps: WriteSessionDeps,
  ) {
    this.startedAt = deps.now().toISOString();
    this.label = `${init.source} ${init.date}`;
    if (deps.resumed) this.adopt(deps.resumed);
  }

  get resumed(): KeptStaging | undefined {
    return this.deps.resumed;
  }

  /** Takes over the files of a kept staging, already in this session's folder. */
  private adopt(kept: KeptStaging): void {
    this.staging = Promise.resolve();
    this.deps.track(this.deps.stagingDir, true);
    for (const f of kept.files) {
      const target = versionFilePath(this.deps.stagingDir, f.path);
      this.names.add(f.path);
      this.registerName(f.path, target);
      this.madeDirs.set(path.dirname(target), Promise.resolve());
      const options = { name: f.path, origin: f.origin, path: target, fs: this.deps.fs, prepare: () => Promise.resolve(), release: () => Promise.resolve(), onIoError: () => Promise.resolve() };
      this.files.set(f.path, new KeptFile(options, f));
    }
  }

  /** Records the folders of a new file's name (fsynced before publishing). */
  private registerName(name: string, target: string): void {
    for (let dir = path.dirname(target); dir !== this.deps.stagingDir; dir = path.dirname(dir)) this.subdirs.add(dir);
  }


  /** Absolute path of the staging folder (it exists only once a file was created). */
  get stagingDir(): string {
    return this.deps.stagingDir;
  }

  private assertOpen(action: string): void {
    if (this.state === 'open') return;
    if (this.failure) throw this.failure;
    throw new InvalidInputError(`cannot ${action}: the write session for ${this.label} is already ${this.state}`);
  }

  /** Creates the staging folder once, on first use (so a refused name touches nothing). */
  private ensureStaging(): Promise<void> {
    this.staging ??= (async () => {
      await this.deps.prepareStagingRoot();
      await this.deps.fs.mkdirExclusive(this.deps.stagingDir);
      this.deps.track(this.deps.stagingDir, true);
    })();
    return this.staging;
  }

  private async prepareFile(target: string): Promise<void> {
    if (this.state !== 'open') throw this.failure ?? new TransientError(`lake: the write session for ${this.label} is ${this.state}`);
    await this.ensureStaging();
    const dir = path.dirname(target);
    if (dir === this.deps.stagingDir) return;
    let made = this.madeDirs.get(dir);
    if (made === undefined) {
      made = this.deps.fs.mkdirp(dir);
      this.madeDirs.set(dir, made);
    }
    await made;
  }

  createFile(name: string, origin: string): FileSink {
    return this.addFile(name, origin, (options) => new StagedFile(options));
  }

  async writeFile(name: string, origin: string, data: Uint8Array | string): Promise<ManifestFile> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new InvalidInputError(`the data of file ${JSON.stringify(name)} must be a string or bytes, got ${typeof data}`);
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    return this.addFile(name, origin, (options) => new WholeStagedFile(options, bytes)).done;
  }

  /** Checks a new file's name and origin, then starts it. */
  private addFile<F extends SessionFile>(name: string, origin: string, start: (options: StagedFileOptions) => F): F {
    this.assertOpen(`create ${JSON.stringify(name)}`);
    checkFileName(name);
    checkOrigin(origin);
    this.names.add(name);
    const target = versionFilePath(this.deps.stagingDir, name);
    this.registerName(name, target);
    const file = start({
      name,
      origin,
      path: target,
      fs: this.deps.fs,
      prepare: () => this.prepareFile(target),
      release: (handle) => this.syncer.add(name, handle),
      onIoError: (err) => this.fail(err),
    });
    this.files.set(name, file);
    return file;
  }

  /** An I/O error killed a file: the session is dead, its staging goes. */
  private fail(err: IngestError): Promise<void> {
    if (!this.failure) {
      this.failure = err;
      this.state = 'failed';
    }
    return this.discard(err);
  }

  /** A commit, quarantine or keep failed: the session is dead and its staging goes; throws the classified failure. */
  private async failWith(err: unknown, action: 'committing' | 'quarantining' | 'keeping'): Promise<never> {
    const failure = ioFailure(err, `${action} ${this.label}`);
    this.failure = failure;
    this.state = 'failed';
    await this.discard(failure).catch(() => undefined);
    throw failure;
  }

  /** Stops every unfinished file and removes the staging folder (once). */
  private discard(reason: Error): Promise<void> {
    this.cleanup ??= (async () => {
      await this.stopPending(reason);
      await this.removeStaging();
    })();
    return this.cleanup;
  }

  private async stopPending(reason: Error): Promise<void> {
    const open = [...this.files.values()].filter((f) => !f.isClosed);
    for (const f of open) f.stop(reason);
    await Promise.all(open.map((f) => f.closed));
  }

  private async removeStaging(): Promise<void> {
    await this.syncer.discard();
    if (!this.staging) return;
    await this.staging.catch(() => undefined);
    await this.deps.fs.remove(this.deps.stagingDir);
    this.deps.track(this.deps.stagingDir, false);
  }

  private manifestFor(input: CommitInput, files: ManifestFile[], version: number): Manifest {
    const { worker, codeVersion } = this.deps;
    return buildManifest({ init: this.init, worker, codeVersion, startedAt: this.startedAt, committedAt: this.deps.now().toISOString() }, input, files, version);
  }

  /** A whole small file (manifest, its digest, a quarantine reason), fsynced: written on this thread once the pool created it. */
  private async writeSmallFile(file: string, text: string): Promise<void> {
    const handle = await this.deps.fs.writeNewFile(file, Buffer.from(text, 'utf8'));
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** fsyncs the staging folders, deepest first (after their files: `syncer.flush()`). */
  private async syncStaging(): Promise<void> {
    const dirs = [...this.subdirs].sort((a, b) => b.length - a.length);
    for (const dir of dirs) await this.deps.fs.syncDir(dir);
    await this.deps.fs.syncDir(this.deps.stagingDir);
  }

  /** `mkdir -p` of the partition folder, fsyncing every parent whose entries changed. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await this.deps.fs.mkdirp(dir);
    if (first === undefined) return;
    const root = path.dirname(first);
    for (let d = dir; ; d = path.dirname(d)) {
      await this.deps.fs.syncDir(path.dirname(d));
      if (path.dirname(d) === root || d === path.dirname(d)) break;
    }
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    this.assertOpen('commit');
    const clean = checkCommitInput(input);
    const files = finishedFiles(this.files, this.failure, 'commit');
    this.manifestFor(clean, files, 1); // refuses an invalid manifest before anything moves
    this.state = 'committing';
    const run = (async () => {
      try {
        const result = await this.publish(clean, files);
        this.state = 'committed';
        return result;
      } catch (err) {
        return this.failWith(err, 'committing');
      }
    })();
    this.inFlight = run;
    return run;
  }

  private async publish(input: CommitInput, files: ManifestFile[]): Promise<CommitResult> {
    const { source, date } = this.init;
    const partition = partitionPath(this.deps.dataDir, source, date);
    await this.ensureStaging();
    await this.ensureDir(partition);
    const manifestFile = path.join(this.deps.stagingDir, MANIFEST_FILE);
    const sidecarFile = path.join(this.deps.stagingDir, MANIFEST_SHA256_FILE);
    let durable = false;
    let manifestWritten = false;
    for (let race = 0; race < MAX_COMMIT_RACES; race++) {
      const { latest, highest } = await latestVersion(partition, source, date);
      if (latest && sameContent(latest.files, files)) {
        await this.removeStaging();
        const dir = path.join(partition, `v${latest.version}`);
        const { sha256 } = await hashFile(path.join(dir, MANIFEST_FILE));
        return { status: 'unchanged', version: latest.version, manifest: latest, manifestSha256: sha256, path: dir };
      }
      if (!durable) {
        // Every file, then every folder, is on disk before the manifest and the rename.
        await this.syncer.flush();
        await this.syncStaging();
        durable = true;
      }
      const version = highest + 1;
      const manifest = this.manifestFor(input, files, version);
      const text = serializeManifest(manifest);
      const manifestSha256 = createHash('sha256').update(text, 'utf8').digest('hex');
      // Files are born read-only: a lost race's manifest goes before it is written again.
      if (manifestWritten) await Promise.all([this.deps.fs.remove(manifestFile), this.deps.fs.remove(sidecarFile)]);
      await Promise.all([this.writeSmallFile(manifestFile, text), this.writeSmallFile(sidecarFile, manifestSha256Line(manifestSha256))]);
      if (!manifestWritten) {
        await this.deps.fs.syncDir(this.deps.stagingDir);
        manifestWritten = true;
      }
      const target = resolveInside(partition, `v${version}`);
      try {
        await this.deps.fs.rename(this.deps.stagingDir, target);
      } catch (err) {
        const code = errorCode(err);
        if (code !== undefined && LOST_RACE_CODES.has(code)) continue;
        if (code === 'ENOENT') {
          if (!(await exists(this.deps.stagingDir))) {
            throw new TransientError(`lake: the staging folder ${this.deps.stagingDir} of ${this.label} was removed before it was published`, { cause: err });
          }
          // The partition folder vanished under us (an operator tidied up): make it again.
          await this.ensureDir(partition);
          continue;
        }
        throw err;
      }
      this.deps.track(this.deps.stagingDir, false);
      await this.deps.fs.syncDir(partition);
      await this.deps.fs.syncDir(stagingRoot(this.deps.dataDir));
      await this.sealFolders(target);
      return { status: 'committed', version, manifest, manifestSha256, path: target };
    }
    throw new TransientError(`lake: lost the race for a version number of ${this.label} ${MAX_COMMIT_RACES} times`);
  }

  /**
   * Makes a published version's folders read-only (0555), deepest first; its
   * files were born read-only. Not fsynced: the mode guards against careless
   * edits, the digests against the rest.
   */
  private async sealFolders(versionDir: string): Promise<void> {
    const staged = [...this.subdirs].sort((a, b) => b.length - a.length);
    for (const dir of staged) await this.deps.fs.chmod(path.join(versionDir, path.relative(this.deps.stagingDir, dir)), LAKE_FOLDER_MODE);
    await this.deps.fs.chmod(versionDir, LAKE_FOLDER_MODE);
  }

  async quarantine(reason: string, details?: Record<string, unknown>): Promise<{ path: string }> {
    this.assertOpen('quarantine');
    const { details: cleanDetails } = checkQuarantine(reason, details);
    this.state = 'quarantining';
    const run = this.moveToQuarantine(reason, cleanDetails);
    this.inFlight = run;
    return run;
  }

  private async moveToQuarantine(reason: string, cleanDetails: Record<string, unknown> | undefined): Promise<{ path: string }> {
    const stop = new TransientError(`lake: the write session for ${this.label} was quarantined`);
    try {
      await this.stopPending(stop);
      if (this.failure) throw this.failure;
      await this.ensureStaging();
      const files = [...this.files.values()].map((f) =>
        f.result ? { ...f.result, complete: true } : { path: f.options.name, origin: f.options.origin, ...f.progress(), complete: false },
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
        ...(cleanDetails === undefined ? {} : { details: cleanDetails }),
        startedAt: this.startedAt,
        quarantinedAt: this.deps.now().toISOString(),
        files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
        codeVersion: this.deps.codeVersion,
      };
      await this.writeSmallFile(path.join(this.deps.stagingDir, REASON_FILE), `${JSON.stringify(record, null, 2)}\n`);
      await this.syncer.flush();
      await this.syncStaging();
      const base = quarantinePath(this.deps.dataDir, source, date, runId);
      await this.ensureDir(path.dirname(base));
      for (let n = 1; n <= MAX_QUARANTINE_SUFFIX; n++) {
        const target = n === 1 ? base : `${base}.${n}`;
        try {
          await this.deps.fs.rename(this.deps.stagingDir, target);
        } catch (err) {
          const code = errorCode(err);
          if (code !== undefined && LOST_RACE_CODES.has(code)) continue;
          throw err;
        }
        this.deps.track(this.deps.stagingDir, false);
        await this.deps.fs.syncDir(path.dirname(base));
        this.state = 'quarantined';
        return { path: target };
      }
      throw new TransientError(`lake: ${MAX_QUARANTINE_SUFFIX} quarantine folders of run ${JSON.stringify(runId)} exist already under ${path.dirname(base)}`);
    } catch (err) {
      return this.failWith(err, 'quarantining');
    }
  }

  async readFile(name: string): Promise<Buffer> {
    const file = this.files.get(checkFileName(name));
    if (file?.result === undefined) throw new InvalidInputError(`file ${JSON.stringify(name)} is not a finished file of the write session for ${this.label}`);
    const bytes = await readFile(file.options.path);
    if (bytes.byteLength !== file.result.bytes || createHash('sha256').update(bytes).digest('hex') !== file.result.sha256) {
      throw new TransientError(`lake: staged file ${JSON.stringify(name)} of ${this.label} changed on disk since it was written`);
    }
    return bytes;
  }

  async removeFile(name: string): Promise<void> {
    this.assertOpen(`remove ${JSON.stringify(name)}`);
    const file = this.files.get(checkFileName(name));
    if (file?.result === undefined) throw new InvalidInputError(`file ${JSON.stringify(name)} is not a finished file of the write session for ${this.label}`);
    this.files.delete(name);
    this.names.remove(name);
    try {
      await this.deps.fs.remove(file.options.path);
    } catch (err) {
      const failure = ioFailure(err, `removing staged file ${JSON.stringify(name)} of ${this.label}`);
      await this.fail(failure);
      throw this.failure ?? failure;
    }
  }

  async keep(state: Record<string, unknown>): Promise<void> {
    this.assertOpen('keep');
    const resumeKey = this.init.resumeKey;
    if (resumeKey === undefined) throw new InvalidInputError(`cannot keep the write session for ${this.label}: it was begun without a resumeKey`);
    const cleanState = checkRecord('kept state', state);
    this.state = 'keeping';
    const run = (async () => {
      try {
        await this.stopPending(new TransientError(`lake: the write session for ${this.label} was kept`));
        if (this.failure) throw this.failure;
        await this.ensureStaging();
        const finished: ManifestFile[] = [];
        for (const f of this.files.values()) {
          if (f.result) finished.push(f.result);
          else await this.deps.fs.remove(f.options.path);
        }
        await this.syncer.flush();
        await this.syncStaging();
        const keptAt = this.deps.now().toISOString();
        await this.writeSmallFile(path.join(this.deps.stagingDir, KEPT_FILE), keptRecordText({ ...this.init, resumeKey }, sortFiles(finished), cleanState, keptAt));
        await this.deps.fs.syncDir(this.deps.stagingDir);
        const root = stagingRoot(this.deps.dataDir);
        try {
          await this.deps.fs.rename(this.deps.stagingDir, keptStagingDir(root, resumeKey));
        } catch (err) {
          const code = errorCode(err);
          if (code === undefined || !LOST_RACE_CODES.has(code)) throw err;
          // Another run of the same job kept its staging first: that one stays, this one goes.
          await this.removeStaging();
          this.state = 'kept';
          return;
        }
        this.deps.track(this.deps.stagingDir, false);
        await this.deps.fs.syncDir(root);
        this.state = 'kept';
      } catch (err) {
        return this.failWith(err, 'keeping');
      }
    })();
    this.inFlight = run;
    return run;
  }

  async abort(): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    if (this.state === 'committed' || this.state === 'quarantined' || this.state === 'kept') return;
    if (this.state === 'open') this.state = 'aborted';
    await this.discard(new TransientError(`lake: the write session for ${this.label} was aborted`));
  }
}
