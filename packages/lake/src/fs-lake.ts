import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lstat, open, realpath } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidInputError } from '@recomart/jobs';
import { defaultCodeVersion } from './code-version.js';
import { checkListedFile, checkSessionInit } from './session-rules.js';
import { withFileSystem, type LakeFileSystem } from './file-system.js';
import { CorruptVersionError, errorCode } from './lake-errors.js';
import { MANIFEST_FILE, partitionPath, rawRoot, sourcePath, stagingRoot, versionFilePath, versionPath } from './layout.js';
import { checkDate, checkFileName, checkVersion, SOURCE_NAME_RE } from './names.js';
import { latestVersion, listDir, loadVersionManifest, partitionDirs, visibleVersions } from './partition-reader.js';
import { sweepStaging } from './sweep.js';
import { takeKeptStaging } from './kept-staging.js';
import type { KeptStaging, Lake, Manifest, SweepReport, VerifyReport, WriteSession, WriteSessionInit } from './types.js';
import { verifyLake } from './verify.js';
import { FsWriteSession } from './write-session.js';

/** How to open a lake on the local filesystem. */
export interface FsLakeOptions {
  /** `$DATA_DIR`: the lake lives in `raw/`, refused files in `quarantine/`. Made absolute. */
  dataDir: string;
  /** Written into every manifest. @defaultValue the root package's version */
  codeVersion?: string;
  /** The clock (manifest times, sweep ages). @defaultValue `() => new Date()` */
  now?: () => Date;
  /** Replaces single filesystem calls (fault injection in tests). @defaultValue the real filesystem */
  fileSystem?: Partial<LakeFileSystem>;
  /** The worker's host name in manifests. @defaultValue `os.hostname()` */
  host?: string;
}

/** Read size of `openFile` streams. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** A unique, sortable staging folder name: time, pid, randomness. */
function stagingId(now: Date): string {
  return `${now.getTime().toString(36)}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * The raw lake on a local (or shared POSIX) filesystem under `dataDir`.
 * Opening it touches nothing on disk; folders appear with the first write.
 */
export class FsLake implements Lake {
  readonly dataDir: string;
  readonly location: string;
  private readonly fs: LakeFileSystem;
  private readonly now: () => Date;
  private readonly codeVersion: string;
  private readonly worker: { host: string; pid: number };
  /** Staging folders of this process's open sessions (sweep leaves them alone). */
  private readonly live = new Set<string>();
  /** `spreadSubfolders` of the staging root, asked once per lake. */
  private spread: Promise<void> | undefined;

  constructor(options: FsLakeOptions) {
    if (typeof options.dataDir !== 'string' || options.dataDir === '' || options.dataDir.includes('\u0000')) {
      throw new InvalidInputError(`dataDir must be a non-empty path, got ${JSON.stringify(options.dataDir) ?? String(options.dataDir)}`);
    }
    this.dataDir = path.resolve(options.dataDir);
    this.location = rawRoot(this.dataDir);
    this.fs = withFileSystem(options.fileSystem);
    this.now = options.now ?? (() => new Date());
    this.codeVersion = options.codeVersion ?? defaultCodeVersion();
    this.worker = { host: options.host ?? hostname(), pid: process.pid };
  }

  async begin(init: WriteSessionInit): Promise<WriteSession> {
    const checked = checkSessionInit(init);
    const now = this.now();
    const stagingDir = path.join(stagingRoot(this.dataDir), stagingId(now));
    let resumed: KeptStaging | undefined;
    if (checked.resumeKey !== undefined) {
      await this.prepareStagingRoot();
      resumed = await takeKeptStaging(this.fs, stagingRoot(this.dataDir), { ...checked, resumeKey: checked.resumeKey }, stagingDir);
    }
    return new FsWriteSession(checked, {
      dataDir: this.dataDir,
      fs: this.fs,
      now: this.now,
      codeVersion: this.codeVersion,
      worker: this.worker,
      stagingDir,
      ...(resumed === undefined ? {} : { resumed }),
      track: (dir, live) => {
        if (live) this.live.add(dir);
        else this.live.delete(dir);
      },
      prepareStagingRoot: () => this.prepareStagingRoot(),
    });
  }

  private async prepareStagingRoot(): Promise<void> {
    const root = stagingRoot(this.dataDir);
    await this.fs.mkdirp(root);
    await (this.spread ??= this.fs.spreadSubfolders(root));
  }

  versionLocation(source: string, date: string, version: number): string {
    return versionPath(this.dataDir, source, date, version);
  }

  async listSources(): Promise<string[]> {
    return (await listDir(rawRoot(this.dataDir)))
      .filter((e) => e.isDirectory() && SOURCE_NAME_RE.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  async listPartitions(source: string, range: { from?: string; to?: string } = {}): Promise<string[]> {
    const dir = sourcePath(this.dataDir, source);
    const from = range.from === undefined ? undefined : checkDate(range.from, 'from');
    const to = range.to === undefined ? undefined : checkDate(range.to, 'to');
    const out: string[] = [];
    for (const p of await partitionDirs(dir)) {
      if ((from !== undefined && p.date < from) || (to !== undefined && p.date > to)) continue;
      if ((await latestVersion(p.dir, source, p.date)).latest) out.push(p.date);
    }
    return out;
  }

  async listVersions(source: string, date: string): Promise<number[]> {
    const dir = partitionPath(this.dataDir, source, date);
    return (await visibleVersions(dir, source, date)).map((m) => m.version);
  }

  async readManifest(source: string, date: string, version?: number): Promise<Manifest | undefined> {
    const partition = partitionPath(this.dataDir, source, date);
    if (version === undefined) return (await latestVersion(partition, source, date)).latest;
    const dir = versionPath(this.dataDir, source, date, checkVersion(version));
    const loaded = await loadVersionManifest(dir, { source, date, version });
    if (loaded.kind === 'absent') return undefined;
    if (loaded.kind === 'bad') {
      throw new CorruptVersionError(`${path.join(dir, MANIFEST_FILE)} is refused: ${loaded.problem}`);
    }
    return loaded.manifest;
  }

  async openFile(source: string, date: string, version: number, file: string): Promise<Readable> {
    checkFileName(file);
    checkListedFile(await this.readManifest(source, date, version), source, date, version, file);
    const dir = versionPath(this.dataDir, source, date, version);
    const full = versionFilePath(dir, file);
    let kind: string;
    try {
      // Also through a linked folder: the real path must still be inside the version.
      const real = await realpath(full);
      const inside = real.startsWith(`${await realpath(dir)}${path.sep}`);
      kind = !inside ? 'a link out of the version' : (await lstat(full)).isFile() ? 'file' : 'not a regular file';
    } catch (err) {
      if (errorCode(err) !== 'ENOENT' && errorCode(err) !== 'ENOTDIR') throw err;
      kind = 'missing';
    }
    if (kind !== 'file') throw new CorruptVersionError(`${full} is listed in the manifest of ${source} ${date} v${version} but is ${kind} (run "recomart lake verify")`);
    const handle = await open(full, 'r');
    return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, autoClose: true });
  }

  locate(source: string, date: string, version: number, file: string): string {
    const dir = versionPath(this.dataDir, source, date, version);
    return pathToFileURL(file === MANIFEST_FILE ? path.join(dir, MANIFEST_FILE) : versionFilePath(dir, file)).href;
  }

  verify(filter?: { source?: string; date?: string }): Promise<VerifyReport> {
    return verifyLake(this.dataDir, filter);
  }

  sweep(maxAgeMs: number): Promise<SweepReport> {
    return sweepStaging({ stagingRoot: stagingRoot(this.dataDir), maxAgeMs, now: this.now, fs: this.fs, live: this.live });
  }
}

