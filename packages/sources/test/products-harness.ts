import { loadConfig } from '@recomart/config';
import { readSnapshotPages, type Lake, type Manifest, type SnapshotPage } from '@recomart/lake';
import { startMockProductApi, type MockApiHandle, type MockApiInput } from '@recomart/mock-product-api';
import { productsSource, readRequestLog, type SourceContext, type SourceProgress, type SourceResult } from '@recomart/sources';
import { sourceRig, type RigRunOptions } from './source-rig.js';

export const DATE = '2024-03-01';

/** Test-sized settings: tiny pages and retry delays of a millisecond. */
const BASE_ENV: Record<string, string> = {
  PRODUCTS_PAGE_SIZE: '10',
  PRODUCTS_PAGE_RETRIES: '3',
  PRODUCTS_RETRY_BASE_MS: '1',
  PRODUCTS_TIMEOUT_MS: '5000',
  PRODUCTS_MAX_RETRY_AFTER_MS: '500',
  PRODUCTS_MAX_HANDBACK_MS: '5000',
  PRODUCTS_CONCURRENCY: '4',
};

export interface RunOptions extends RigRunOptions {
  env?: Record<string, string>;
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
  /** A file of a committed version, whole. */
  readPage(version: number, file: string): Promise<Buffer>;
  /** Every page of a committed version (the latest when omitted), in order, through the lake's reader. */
  pages(version?: number): Promise<SnapshotPage[]>;
  close(): Promise<void>;
}

/** @param lakeAt opens the lake for the temp DATA_DIR (default: the folder lake in it). */
export async function productsHarness(apiInput: MockApiInput = {}, env: Record<string, string> = {}, lakeAt?: (dataDir: string) => Lake): Promise<ProductsHarness> {
  const rig = await sourceRig('recomart-products-', undefined, lakeAt);
  const api = await startMockProductApi({ port: 0, products: 25, ...apiInput });
  const { dataDir, lake } = rig;
  return {
    api,
    lake,
    dataDir,
    logs: rig.logs,
    progress: rig.progress,
    async run(options: RunOptions = {}) {
      const config = loadConfig({ DATA_DIR: dataDir, PRODUCTS_API_URL: api.url, ...BASE_ENV, ...env, ...options.env });
      const ctx = rig.nextContext('products', DATE, config, options);
      return productsSource(options.budget ? { ...ctx, requestBudget: options.budget } : ctx);
    },
    versions: () => lake.listVersions('products', DATE),
    latest: () => lake.readManifest('products', DATE),
    staging: () => rig.staging(),
    readPage: (version, file) => rig.readLakeFile('products', DATE, version, file),
    async pages(version) {
      const v = version ?? (await lake.readManifest('products', DATE))?.version;
      if (v === undefined) return [];
      const out: SnapshotPage[] = [];
      for await (const page of readSnapshotPages(lake, 'products', DATE, v)) out.push(page);
      return out;
    },
    async close() {
      await api.close();
      await rig.remove();
    },
  };
}

/** The request log (`_requests.ndjson`) of the latest version, for one page. */
export async function requestsFor(h: ProductsHarness, page: number): Promise<{ attempt: number; status: number | null; error?: string }[]> {
  const manifest = await h.latest();
  const requests = manifest === undefined ? [] : await readRequestLog(h.lake, 'products', DATE, manifest.version);
  return requests.filter((r) => r.page === page).map(({ attempt, status, error }) => (error === undefined ? { attempt, status } : { attempt, status, error }));
}
