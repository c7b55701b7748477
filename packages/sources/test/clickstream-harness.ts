import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@recomart/config';
import { openLake, quarantinePath, stagingRoot, type Lake, type LakeFileSystem, type Manifest } from '@recomart/lake';
import { clickstreamSource, type RejectedRow, type SourceContext, type SourceLogger, type SourceProgress, type SourceResult } from '@recomart/sources';

export const DATE = '2024-05-01';
export const HEADER = 'user_id,product_id,event_type,timestamp,device';
/** A row that passes every check on DATE. */
export const GOOD = '1001,2001,view,2024-05-01T10:00:00.000Z,web';

/** CSV text: the lines joined with LF, ending with one. */
export function csv(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface RunOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  date?: string;
  onProgress?: (p: SourceProgress) => void;
}

/** A temp DATA_DIR with a landing zone and a real lake, and a way to run the clickstream source on it. */
export interface ClickstreamHarness {
  readonly dataDir: string;
  readonly landingDir: string;
  readonly lake: Lake;
  readonly logs: string[];
  readonly progress: SourceProgress[];
  /** The landing folder of DATE (or `date`). */
  folder(date?: string): string;
  /** Writes a landing file of DATE; answers its path. */
  land(name: string, content: string | Buffer, date?: string): Promise<string>;
  run(options?: RunOptions): Promise<SourceResult>;
  /** Runs and answers what it threw (fails the test when it did not throw). */
  runError(options?: RunOptions): Promise<Error>;
  /** The run id of the last run (its quarantine folder is named after it). */
  lastRunId(): string;
  versions(date?: string): Promise<number[]>;
  latest(date?: string): Promise<Manifest | undefined>;
  readLakeFile(version: number, name: string, date?: string): Promise<Buffer>;
  rejected(version: number, date?: string): Promise<RejectedRow[]>;
  /** The files (name → bytes) and `_reason.json` of the last run's quarantine folder. */
  quarantine(date?: string): Promise<{ dir: string; files: Map<string, Buffer>; reason: { reason: string; details?: unknown } }>;
  /** Entries left in the lake's staging area. */
  staging(): Promise<string[]>;
  close(): Promise<void>;
}

/** @param fileSystem replaces lake filesystem calls (fault injection). */
export async function clickstreamHarness(env: Record<string, string> = {}, fileSystem?: Partial<LakeFileSystem>): Promise<ClickstreamHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'recomart-clickstream-'));
  const landingDir = path.join(dataDir, 'landing');
  const lake = openLake(fileSystem ? { dataDir, fileSystem } : { dataDir });
  const logs: string[] = [];
  const progress: SourceProgress[] = [];
  const record =
    (level: string) =>
    (obj: object, msg?: string): void => {
      logs.push(JSON.stringify({ level, ...obj, msg }));
    };
  const logger: SourceLogger = { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  let runs = 0;
  const folder = (date = DATE) => path.join(landingDir, 'clickstream', date);
  const harness: ClickstreamHarness = {
    dataDir,
    landingDir,
    lake,
    logs,
    progress,
    folder,
    async land(name, content, date = DATE) {
      await mkdir(folder(date), { recursive: true });
      const file = path.join(folder(date), name);
      await writeFile(file, content);
      return file;
    },
    async run(options = {}) {
      runs += 1;
      const date = options.date ?? DATE;
      const config = loadConfig({ DATA_DIR: dataDir, ...env, ...options.env });
      const ctx: SourceContext = {
        source: 'clickstream',
        date,
        runId: `run-${runs}`,
        jobId: `clickstream__${date}`,
        attempt: runs,
        lake,
        config,
        logger,
        signal: options.signal ?? new AbortController().signal,
        progress: (p) => {
          progress.push(p);
          options.onProgress?.(p);
        },
      };
      return clickstreamSource(ctx);
    },
    async runError(options = {}) {
      try {
        await harness.run(options);
      } catch (err) {
        if (err instanceof Error) return err;
        throw new Error(`threw a non-Error: ${String(err)}`);
      }
      throw new Error('expected the clickstream source to throw');
    },
    lastRunId: () => `run-${runs}`,
    versions: (date = DATE) => lake.listVersions('clickstream', date),
    latest: (date = DATE) => lake.readManifest('clickstream', date),
    async readLakeFile(version, name, date = DATE) {
      const stream = await lake.openFile('clickstream', date, version, name);
      const parts: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) parts.push(chunk);
      return Buffer.concat(parts);
    },
    async rejected(version, date = DATE) {
      const text = (await harness.readLakeFile(version, '_rejected.ndjson', date)).toString('utf8');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as RejectedRow);
    },
    async quarantine(date = DATE) {
      const dir = quarantinePath(dataDir, 'clickstream', date, harness.lastRunId());
      const files = new Map<string, Buffer>();
      for (const name of await readdir(dir)) if (name !== '_reason.json') files.set(name, await readFile(path.join(dir, name)));
      const reason = JSON.parse(await readFile(path.join(dir, '_reason.json'), 'utf8')) as { reason: string; details?: unknown };
      return { dir, files, reason };
    },
    async staging() {
      try {
        return await readdir(stagingRoot(dataDir));
      } catch {
        return [];
      }
    },
    async close() {
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
