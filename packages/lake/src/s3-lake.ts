import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { isLogicalDate } from '@recomart/jobs';
import { defaultCodeVersion } from './code-version.js';
import { checkListedFile, checkSessionInit } from './session-rules.js';
import { CorruptVersionError } from './lake-errors.js';
import { MANIFEST_FILE, parseVersionDir } from './layout.js';
import { parseVersionManifest } from './manifest.js';
import { checkDate, checkFileName, checkSourceName, checkVersion, SOURCE_NAME_RE } from './names.js';
import { ObjectStore, type S3Options } from './object-store.js';
import { MAX_MANIFEST_BYTES } from './partition-reader.js';
import { S3Layout } from './s3-layout.js';
import { sweepS3 } from './s3-sweep.js';
import { verifyS3 } from './s3-verify.js';
import { S3WriteSession } from './s3-write-session.js';
import type { Lake, Manifest, SweepReport, VerifyReport, WriteSession, WriteSessionInit } from './types.js';

/** How to open a lake in an S3 bucket. */
export interface S3LakeOptions {
  /** `$DATA_DIR` (nothing of the lake is kept there; reported as `lake.dataDir`). */
  dataDir: string;
  bucket: string;
  /** Key prefix without leading or trailing `/`; '' for the bucket's root. */
  prefix: string;
  s3?: S3Options;
  codeVersion?: string;
  now?: () => Date;
  host?: string;
}

/** Partitions whose highest version number a lake remembers before it forgets them all (a guess, not a record). */
const MAX_PARTITIONS_REMEMBERED = 10_000;

/** What a version's manifest turned out to be. */
type Loaded = { kind: 'ok'; manifest: Manifest; text: string } | { kind: 'absent' } | { kind: 'bad'; problem: string };

/**
 * The raw lake in an S3-compatible bucket: same layout as keys, same
 * guarantees as the folder (see `S3WriteSession` for the commit protocol).
 * A version is visible once its `_manifest.json` exists and is valid.
 */
export class S3Lake implements Lake {
  readonly dataDir: string;
  readonly location: string;
  readonly store: ObjectStore;
  readonly layout: S3Layout;
  private readonly now: () => Date;
  private readonly codeVersion: string;
  private readonly worker: { host: string; pid: number };
  /** Version prefixes claimed by this process's open sessions (sweep leaves them alone). */
  private readonly live = new Set<string>();
  /** The highest version number seen per partition (`source/date`), the first guess of the next claim. */
  private readonly highestSeen = new Map<string, number>();

  constructor(options: S3LakeOptions) {
    this.dataDir = options.dataDir;
    this.store = new ObjectStore(options.bucket, options.s3);
    this.layout = new S3Layout(options.prefix);
    this.location = this.store.url(options.prefix);
    this.now = options.now ?? (() => new Date());
    this.codeVersion = options.codeVersion ?? defaultCodeVersion();
    this.worker = { host: options.host ?? hostname(), pid: process.pid };
  }

  async begin(init: WriteSessionInit): Promise<WriteSession> {
    const checked = checkSessionInit(init);
    const session = new S3WriteSession(checked, {
      store: this.store,
      layout: this.layout,
      now: this.now,
      codeVersion: this.codeVersion,
      worker: this.worker,
      track: (prefix, live) => {
        if (live) this.live.add(prefix);
        else this.live.delete(prefix);
      },
      highestSeen: (source, date) => this.highestSeen.get(`${source}/${date}`) ?? 0,
      saw: (source, date, version) => this.saw(source, date, version),
      versionNumbers: (source, date) => this.versionNumbers(source, date),
      latestAmong: (source, date, numbers) => this.latestAmong(source, date, numbers),
    });
    // A resumable session first takes over what an earlier one of its key kept (one GET when there is nothing).
    await session.takeOver();
    return session;
  }

  versionLocation(source: string, date: string, version: number): string {
    return this.store.url(this.layout.version(source, date, version));
  }

  async listSources(): Promise<string[]> {
    return (await this.store.listChildren(this.layout.root)).filter((s) => SOURCE_NAME_RE.test(s)).sort();
  }

  /** Every `v<N>` under a partition, committed or only claimed, ascending. */
  async versionNumbers(source: string, date: string): Promise<number[]> {
    const names = await this.store.listChildren(this.layout.partition(source, date));
    const numbers = names
      .map(parseVersionDir)
      .filter((n): n is number => n !== undefined)
      .sort((a, b) => a - b);
    if (numbers.length > 0) this.saw(source, date, numbers[numbers.length - 1] as number);
    return numbers;
  }

  /** Remembers the highest version number seen of a partition (only a first guess for the next claim). */
  private saw(source: string, date: string, version: number): void {
    const key = `${source}/${date}`;
    if (version <= (this.highestSeen.get(key) ?? 0)) return;
    if (this.highestSeen.size >= MAX_PARTITIONS_REMEMBERED) this.highestSeen.clear();
    this.highestSeen.set(key, version);
  }

  /** The dates of a source that have a `yyyy/mm/dd/` prefix, ascending. */
  async partitionDates(source: string): Promise<string[]> {
    const root = this.layout.source(source);
    const out: string[] = [];
    for (const y of await this.store.listChildren(root)) {
      if (!/^\d{4}$/.test(y)) continue;
      for (const m of await this.store.listChildren(`${root}${y}/`)) {
        if (!/^\d{2}$/.test(m)) continue;
        for (const d of await this.store.listChildren(`${root}${y}/${m}/`)) {
          const date = `${y}-${m}-${d}`;
          if (/^\d{2}$/.test(d) && isLogicalDate(date)) out.push(date);
        }
      }
    }
    return out.sort();
  }

  async listPartitions(source: string, range: { from?: string; to?: string } = {}): Promise<string[]> {
    checkSourceName(source);
    const from = range.from === undefined ? undefined : checkDate(range.from, 'from');
    const to = range.to === undefined ? undefined : checkDate(range.to, 'to');
    const out: string[] = [];
    for (const date of await this.partitionDates(source)) {
      if ((from !== undefined && date < from) || (to !== undefined && date > to)) continue;
      if ((await this.readManifest(source, date)) !== undefined) out.push(date);
    }
    return out;
  }

  async listVersions(source: string, date: string): Promise<number[]> {
    const out: number[] = [];
    for (const n of await this.versionNumbers(source, date)) {
      if ((await this.loadManifest(source, date, n)).kind === 'ok') out.push(n);
    }
    return out;
  }

  /** A version's manifest: valid, absent (not committed, or only claimed), or refused. */
  async loadManifest(source: string, date: string, version: number): Promise<Loaded> {
    const key = this.layout.manifest(this.layout.version(source, date, version));
    const bytes = await this.store.getSmall(key, MAX_MANIFEST_BYTES);
    if (bytes === undefined) return { kind: 'absent' };
    const text = bytes.toString('utf8');
    const parsed = parseVersionManifest(text, { source, date, version });
    return 'problem' in parsed ? { kind: 'bad', problem: parsed.problem } : { kind: 'ok', manifest: parsed.manifest, text };
  }

  /** The highest of `numbers` whose manifest is valid (read from the highest down), with the manifest's text. */
  async latestAmong(source: string, date: string, numbers: readonly number[]): Promise<{ manifest: Manifest; text: string } | undefined> {
    const sorted = [...numbers].sort((a, b) => b - a);
    for (const n of sorted) {
      const loaded = await this.loadManifest(source, date, n);
      if (loaded.kind === 'ok') return { manifest: loaded.manifest, text: loaded.text };
    }
    return undefined;
  }

  async readManifest(source: string, date: string, version?: number): Promise<Manifest | undefined> {
    if (version === undefined) return (await this.latestAmong(source, date, await this.versionNumbers(source, date)))?.manifest;
    const loaded = await this.loadManifest(source, date, checkVersion(version));
    if (loaded.kind === 'absent') return undefined;
    if (loaded.kind === 'bad') {
      throw new CorruptVersionError(`${this.store.url(this.layout.manifest(this.layout.version(source, date, version)))} is refused: ${loaded.problem}`);
    }
    return loaded.manifest;
  }

  async openFile(source: string, date: string, version: number, file: string): Promise<Readable> {
    checkFileName(file);
    checkListedFile(await this.readManifest(source, date, version), source, date, version, file);
    const key = this.layout.file(this.layout.version(source, date, version), file);
    const body = await this.store.getStream(key);
    if (body === undefined) {
      throw new CorruptVersionError(`${this.store.url(key)} is listed in the manifest of ${source} ${date} v${version} but is missing (run "recomart lake verify")`);
    }
    return body;
  }

  locate(source: string, date: string, version: number, file: string): string {
    const prefix = this.layout.version(source, date, version);
    return this.store.url(file === MANIFEST_FILE ? this.layout.manifest(prefix) : this.layout.file(prefix, file));
  }

  verify(filter?: { source?: string; date?: string }): Promise<VerifyReport> {
    return verifyS3(this, filter);
  }

  sweep(maxAgeMs: number): Promise<SweepReport> {
    return sweepS3({ lake: this, maxAgeMs, now: this.now, live: this.live });
  }
}
