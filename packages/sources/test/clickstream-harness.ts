import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '@recomart/config';
import { quarantinePath, type Lake, type LakeFileSystem, type Manifest } from '@recomart/lake';
import { clickstreamSource, type RejectedRow, type SourceProgress, type SourceResult } from '@recomart/sources';
import { sourceRig, type RigRunOptions } from './source-rig.js';

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

export interface RunOptions extends RigRunOptions {
  env?: Record<string, string>;
  date?: string;
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
  const rig = await sourceRig('recomart-clickstream-', fileSystem);
  const { dataDir, lake } = rig;
  const landingDir = path.join(dataDir, 'landing');
  const folder = (date = DATE) => path.join(landingDir, 'clickstream', date);
  const harness: ClickstreamHarness = {
    dataDir,
    landingDir,
    lake,
    logs: rig.logs,
    progress: rig.progress,
    folder,
    async land(name, content, date = DATE) {
      await mkdir(folder(date), { recursive: true });
      const file = path.join(folder(date), name);
      await writeFile(file, content);
      return file;
    },
    async run(options = {}) {
      const date = options.date ?? DATE;
      // Files landed by a test are read at once: no settle time unless a test sets one.
      const config = loadConfig({ DATA_DIR: dataDir, CLICKSTREAM_SETTLE_MS: '0', ...env, ...options.env });
      return clickstreamSource(rig.nextContext('clickstream', date, config, options));
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
    lastRunId: () => `run-${rig.runs()}`,
    versions: (date = DATE) => lake.listVersions('clickstream', date),
    latest: (date = DATE) => lake.readManifest('clickstream', date),
    readLakeFile: (version, name, date = DATE) => rig.readLakeFile('clickstream', date, version, name),
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
    staging: () => rig.staging(),
    close: () => rig.remove(),
  };
  return harness;
}
