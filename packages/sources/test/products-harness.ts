import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@recomart/config';
import { openLake, stagingRoot, type Lake, type Manifest } from '@recomart/lake';
import { startMockProductApi, type MockApiHandle, type MockApiInput } from '@recomart/mock-product-api';
import { productsSource, type SourceContext, type SourceLogger, type SourceProgress, type SourceResult } from '@recomart/sources';

export const DATE = '2024-03-01';

/** Test-sized settings: tiny pages and retry delays of a millisecond. */
const BASE_ENV: Record<string, string> = {
  PRODUCTS_PAGE_SIZE: '10',
  PRODUCTS_PAGE_RETRIES: '3',
  PRODUCTS_RETRY_BASE_MS: '1',
  PRODUCTS_TIMEOUT_MS: '5000',
  PRODUCTS_INLINE_WAIT_MS: '500',
  PRODUCTS_MAX_RETRY_AFTER_MS: '5000',
  PRODUCTS_CONCURRENCY: '4',
};

export interface RunOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (p: SourceProgress) => void;
  /** Passed as `ctx.requestBudget`. */
  budget?: SourceContext['requestBudget'];
}

/** A mock API on port 0, a temp lake, and a way to run the real products source against them. */
export interface ProductsHarness {
  readonly api: MockApiHandle;
  readonly lake: Lake;
  readonly dataDir: string;
  /** Every log call of every run, serialized as a log line would be. */
  readonly logs: string[];
  readonly progress: SourceProgress[];
  run(options?: RunOptions): Promise<SourceResult>;
  /** Committed versions of the test partition. */
  versions(): Promise<number[]>;
  latest(): Promise<Manifest | undefined>;
  /** Entries left in the lake's staging area (none after a clean abort or commit). */
  staging(): Promise<string[]>;
  readPage(version: number, file: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function productsHarness(apiInput: MockApiInput = {}, env: Record<string, string> = {}): Promise<ProductsHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'recomart-products-'));
  const api = await startMockProductApi({ port: 0, products: 25, ...apiInput });
  const lake = openLake({ dataDir });
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
    api,
    lake,
    dataDir,
    logs,
    progress,
    async run(options: RunOptions = {}) {
      runs += 1;
      const config = loadConfig({ DATA_DIR: dataDir, PRODUCTS_API_URL: api.url, ...BASE_ENV, ...env, ...options.env });
      const ctx: SourceContext = {
        source: 'products',
        date: DATE,
        runId: `run-${runs}`,
        jobId: `products__${DATE}`,
        attempt: runs,
        lake,
        config,
        logger,
        signal: options.signal ?? new AbortController().signal,
        progress: (p) => {
          progress.push(p);
          options.onProgress?.(p);
        },
        ...(options.budget ? { requestBudget: options.budget } : {}),
      };
      return productsSource(ctx);
    },
    versions: () => lake.listVersions('products', DATE),
    latest: () => lake.readManifest('products', DATE),
    async staging() {
      try {
        return await readdir(stagingRoot(dataDir), { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    async readPage(version, file) {
      const chunks: Buffer[] = [];
      for await (const chunk of await lake.openFile('products', DATE, version, file)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async close() {
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The request log of the latest manifest, for one page. */
export function requestsFor(manifest: Manifest | undefined, page: number): { attempt: number; status: number | null; error?: string }[] {
  const requests = (manifest?.provenance?.requests ?? []) as { page: number; attempt: number; status: number | null; error?: string }[];
  return requests.filter((r) => r.page === page).map(({ attempt, status, error }) => (error === undefined ? { attempt, status } : { attempt, status, error }));
}
