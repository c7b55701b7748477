import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { loadConfig, type Config } from '@recomart/config';
import { addDays } from '@recomart/jobs';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { clickstreamSource, generateClickstreamDay, productsSource } from '@recomart/sources';
import { lakeCommand } from '../../apps/cli/src/commands/lake.js';
import { captureIo } from '../helpers/capture-io.js';
import { sourceRig, type SourceRig } from '../../packages/sources/test/source-rig.js';

interface CurrentJson {
  partitions: Array<{ date: string; version: number; records: number; rejected: number; files: Array<{ path: string; uri: string }> }>;
}

const FIRST = '2026-04-06';
const WEEK = Array.from({ length: 7 }, (_, i) => addDays(FIRST, i));
const REPROCESSED = WEEK[3] as string;

/** What a downstream stage would run: `recomart lake current --source S --json`. */
async function current(dataDir: string, source: string): Promise<CurrentJson> {
  const io = captureIo({ DATA_DIR: dataDir });
  expect(await lakeCommand.run(['current', '--source', source, '--json'], io)).toBe(0);
  return JSON.parse(io.out()) as CurrentJson;
}

/** A SQL list literal of URIs. */
function uriList(uris: readonly string[]): string {
  return `[${uris.map((u) => `'${u.replaceAll("'", "''")}'`).join(', ')}]`;
}

async function count(db: DuckDBConnection, sql: string): Promise<number> {
  const rows = (await db.runAndReadAll(sql)).getRowObjectsJson();
  return Number(rows[0]?.n);
}

describe('DuckDB reads the current versions that lake current lists', () => {
  let rig: SourceRig;
  let api: MockApiHandle;
  let config: Config;
  let db: DuckDBConnection;

  beforeAll(async () => {
    rig = await sourceRig('recomart-duckdb-');
    api = await startMockProductApi({ port: 0, products: 230 });
    config = loadConfig({ DATA_DIR: rig.dataDir, PRODUCTS_API_URL: api.url, PRODUCTS_PAGE_SIZE: '50' });
    const context = (source: 'clickstream' | 'products', date: string) => rig.nextContext(source, date, config, {});
    // a week of clickstream, two files a day, every other day gzipped; then one day exported again, bigger
    for (const [i, date] of WEEK.entries()) {
      await generateClickstreamDay({ landingDir: config.landingDir, date, rows: 200 + 10 * i, files: 2, gzip: i % 2 === 1, seed: `week-${date}` });
      expect((await clickstreamSource(context('clickstream', date))).status).toBe('committed');
    }
    await generateClickstreamDay({ landingDir: config.landingDir, date: REPROCESSED, rows: 500, files: 2, seed: 'reprocessed' });
    expect(await clickstreamSource(context('clickstream', REPROCESSED))).toMatchObject({ status: 'committed', version: 2, records: 500 });
    expect((await productsSource(context('products', FIRST))).status).toBe('committed');
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });

  afterAll(async () => {
    db?.closeSync();
    await api?.close();
    await rig?.remove();
  });

  it('counts a week of clickstream rows as the manifests do, the reprocessed day once', async () => {
    const { partitions } = await current(rig.dataDir, 'clickstream');
    expect(partitions.map((p) => [p.date, p.version])).toEqual(WEEK.map((d) => [d, d === REPROCESSED ? 2 : 1]));
    const csvs = partitions.flatMap((p) => p.files.filter((f) => /\.csv(\.gz)?$/.test(f.path)).map((f) => f.uri));
    expect(csvs).toHaveLength(14);
    const expected = partitions.reduce((sum, p) => sum + p.records + p.rejected, 0);
    expect(expected).toBe(200 + 210 + 220 + 500 + 240 + 250 + 260);

    const all = await count(db, `SELECT count(*) AS n FROM read_csv(${uriList(csvs)}, header = true)`);
    expect(all).toBe(expected);
    // per day as well: the reprocessed day holds only its new rows
    const perDay = (await db.runAndReadAll(`SELECT filename, count(*) AS n FROM read_csv(${uriList(csvs)}, header = true, filename = true) GROUP BY filename`)).getRowObjectsJson();
    const dateOf = new Map(partitions.flatMap((p) => p.files.flatMap((f) => [[f.uri, p.date] as const, [fileURLToPath(f.uri), p.date] as const])));
    const byDate = new Map<string, number>();
    for (const row of perDay) {
      const date = dateOf.get(String(row.filename)) ?? `unknown file ${String(row.filename)}`;
      byDate.set(date, (byDate.get(date) ?? 0) + Number(row.n));
    }
    expect(Object.fromEntries(byDate)).toEqual(Object.fromEntries(partitions.map((p) => [p.date, p.records + p.rejected])));

    // what a glob over raw/clickstream/** would have counted: the old version of the reprocessed day too
    const naive = await count(db, `SELECT count(*) AS n FROM read_csv('${path.join(rig.dataDir, 'raw', 'clickstream')}/**/*.csv*', header = true)`);
    expect(naive).toBe(expected + 230);
  });

  it('counts a product snapshot, the page bodies of its segments unnested, as its manifest does', async () => {
    const { partitions } = await current(rig.dataDir, 'products');
    expect(partitions).toHaveLength(1);
    const snapshot = partitions[0];
    // Segments hold the page bodies back to back: DuckDB reads them as a sequence of JSON values.
    const pages = snapshot?.files.filter((f) => /^pages\/segment-\d+\.bin$/.test(f.path)).map((f) => f.uri) ?? [];
    expect(pages).toHaveLength(1);
    const n = await count(db, `SELECT count(*) AS n FROM (SELECT unnest(items) AS product FROM read_json(${uriList(pages)}, format = 'unstructured'))`);
    expect(n).toBe(snapshot?.records); // a product snapshot's records count every product, the rejected ones too
    expect(n).toBe(230);
    const ids = await count(db, `SELECT count(DISTINCT product.product_id) AS n FROM (SELECT unnest(items) AS product FROM read_json(${uriList(pages)}, format = 'unstructured'))`);
    expect(ids).toBe(230);
  });
});
