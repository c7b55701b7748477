import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '@recomart/config';
import { openLake, stagingRoot, type Lake, type LakeFileSystem } from '@recomart/lake';
import type { SourceContext, SourceLogger, SourceProgress } from '@recomart/sources';

/** What one run of a source under test may set. */
export interface RigRunOptions {
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
}

/**
 * What both source harnesses share: a temp DATA_DIR with a real lake, a
 * logger that keeps every call as a log line, the progress of every run, and
 * the context of the next run (run ids `run-1`, `run-2` … and the attempt
 * counting up with them).
 */
export interface SourceRig {
  readonly dataDir: string;
  readonly lake: Lake;
  /** Every log call of every run, serialized as a log line would be. */
  readonly logs: string[];
  readonly progress: SourceProgress[];
  /** Runs so far (the last run's id is `run-<runs>`). */
  runs(): number;
  /** The context of a new run of `source` on `date`. */
  nextContext(source: SourceContext['source'], date: string, config: Config, options: RigRunOptions): SourceContext;
  /** Every path left under the lake's staging root (none after a clean abort or commit). */
  staging(): Promise<string[]>;
  /** A whole file of a committed version. */
  readLakeFile(source: SourceContext['source'], date: string, version: number, name: string): Promise<Buffer>;
  /** Removes the temp DATA_DIR. */
  remove(): Promise<void>;
}

/**
 * @param fileSystem replaces lake filesystem calls (fault injection).
 * @param lakeAt opens another lake for the temp DATA_DIR (one in a test bucket) instead of its folder.
 */
export async function sourceRig(prefix: string, fileSystem?: Partial<LakeFileSystem>, lakeAt?: (dataDir: string) => Lake): Promise<SourceRig> {
  const dataDir = await mkdtemp(path.join(tmpdir(), prefix));
  const lake = lakeAt ? lakeAt(dataDir) : openLake(fileSystem ? { dataDir, fileSystem } : { dataDir });
  const logs: string[] = [];
  const progress: SourceProgress[] = [];
  const record =
    (level: string) =>
    (obj: object, msg?: string): void => {
      logs.push(JSON.stringify({ level, ...obj, msg }));
    };
  const logger: SourceLogger = { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  let runs = 0;
  return {
    dataDir,
    lake,
    logs,
    progress,
    runs: () => runs,
    nextContext(source, date, config, options) {
      runs += 1;
      return {
        source,
        date,
        runId: `run-${runs}`,
        jobId: `${source}__${date}`,
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
    },
    async staging() {
      try {
        return await readdir(stagingRoot(dataDir), { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    async readLakeFile(source, date, version, name) {
      const chunks: Buffer[] = [];
      for await (const chunk of await lake.openFile(source, date, version, name)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    remove: () => rm(dataDir, { recursive: true, force: true }),
  };
}
