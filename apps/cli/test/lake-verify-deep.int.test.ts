import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@recomart/config';
import { versionPath, type Lake, type VerifyReport } from '@recomart/lake';
import { startMockProductApi, type MockApiHandle } from '@recomart/mock-product-api';
import { clickstreamSource, generateClickstreamDay, productsSource } from '@recomart/sources';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { sourceRig, type SourceRig } from '../../../packages/sources/test/source-rig.js';
import { lakeCommand } from '../src/commands/lake.js';

const DAY = '2026-05-04';

describe('recomart lake verify --deep (issue 12, finding 5)', () => {
  let rig: SourceRig;
  let dataDir: string;
  let lake: Lake;
  let api: MockApiHandle;

  async function verify(...flags: string[]): Promise<{ code: number; report: VerifyReport }> {
    const io = captureIo({ DATA_DIR: dataDir, PRODUCTS_API_URL: api.url });
    const code = await lakeCommand.run(['verify', '--json', ...flags], io);
    return { code, report: JSON.parse(io.out()) as VerifyReport };
  }

  /** Rewrites a committed manifest as a careless operator would, and drops the digest beside it. */
  async function editManifest(source: string, from: string, to: string): Promise<string> {
    const file = path.join(versionPath(dataDir, source, DAY, 1), '_manifest.json');
    const text = await readFile(file, 'utf8');
    expect(text).toContain(from);
    await writeFile(file, text.replace(from, to));
    await rm(`${file}.sha256`);
    return file;
  }

  beforeAll(async () => {
    rig = await sourceRig('recomart-deep-');
    ({ dataDir, lake } = rig);
    api = await startMockProductApi({ port: 0, products: 120 });
    const config = loadConfig({ DATA_DIR: dataDir, PRODUCTS_API_URL: api.url, PRODUCTS_PAGE_SIZE: '50' });
    const context = (source: 'clickstream' | 'products', date: string) => rig.nextContext(source, date, config, {});
    await generateClickstreamDay({ landingDir: config.landingDir, date: DAY, rows: 1000, files: 2, gzip: true, dirty: 0.005, seed: 'deep' });
    const click = await clickstreamSource(context('clickstream', DAY));
    expect(click.rejected).toBeGreaterThan(0);
    expect(click.records + click.rejected).toBe(1000);
    expect((await productsSource(context('products', DAY))).records).toBe(120);
  });

  afterAll(async () => {
    await api?.close();
    await rig?.remove();
  });

  it('passes an untouched lake, and reports a manifest whose counts the data does not bear out', async () => {
    expect(await verify('--deep')).toEqual({ code: 0, report: { ok: true, versionsChecked: 2, filesChecked: 6, problems: [] } });

    const m = await lake.readManifest('clickstream', DAY);
    const clickManifest = await editManifest('clickstream', `"records": ${m?.records},`, `"records": ${(m?.records ?? 0) - 1},`);
    const productManifest = await editManifest('products', '"rejected": 0,', '"rejected": 3,');
    // with the digest gone, the hashes alone see nothing
    expect((await verify()).code).toBe(0);

    const deep = await verify('--deep');
    expect(deep.code).toBe(1);
    expect(deep.report.problems.map((p) => [p.source, p.kind, p.path, p.detail])).toEqual([
      [
        'clickstream',
        'mismatch',
        clickManifest,
        `the data files hold 1000 rows, the manifest says ${(m?.records ?? 0) - 1} records + ${m?.rejected} rejected = ${999}`,
      ],
      ['products', 'mismatch', productManifest, '0 products fail validation, the manifest says 3 rejected'],
    ]);
  });
});
