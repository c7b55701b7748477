import { createGunzip } from 'node:zlib';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '@recomart/config';
import { TransientError } from '@recomart/jobs';
import { PAGES_INDEX_FILE, readSnapshotPages, type Lake, type Manifest } from '@recomart/lake';
import { createRecordParser } from './clickstream/record-parser.js';
import { RejectedRows } from './clickstream/rejected-rows.js';
import { parsePage } from './products/page-body.js';
import { ProductValidator } from './products/product-validator.js';

/** One count a manifest claims that its version's data does not bear out. */
export interface RecountMismatch {
  /** The file the difference shows in (relative to the version), or `_manifest.json` for a total. */
  path: string;
  detail: string;
}

/** Counts lines of a stream (a last line without a newline counts too). */
async function countLines(stream: Readable): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) lines += 1;
    if (buf.byteLength > 0) last = buf[buf.byteLength - 1] as number;
  }
  return last === 0x0a ? lines : lines + 1;
}

/** Data rows of one clickstream file, parsed the way the ingest parses them (blank lines are not rows). */
async function countCsvRows(stream: Readable, gzip: boolean, maxRowBytes: number): Promise<number> {
  let rows = 0;
  const parser = createRecordParser(maxRowBytes, {
    onHeader: () => undefined,
    onRecord: (_record, cells) => {
      if (cells > 0) rows += 1;
    },
  });
  const sink = new Writable({ objectMode: true, write: (_row, _enc, done) => done() });
  await (gzip ? pipeline(stream, createGunzip(), parser, sink) : pipeline(stream, parser, sink));
  return rows;
}

async function recountClickstream(lake: Lake, m: Manifest, config: Config): Promise<RecountMismatch[]> {
  const out: RecountMismatch[] = [];
  let rows = 0;
  let rejectedLines = 0;
  for (const f of m.files) {
    const open = () => lake.openFile(m.source, m.date, m.version, f.path);
    if (f.path === RejectedRows.fileName) rejectedLines = await countLines(await open());
    else if (/\.csv$/i.test(f.path)) rows += await countCsvRows(await open(), false, config.clickstream.maxRowBytes);
    else if (/\.csv\.gz$/i.test(f.path)) rows += await countCsvRows(await open(), true, config.clickstream.maxRowBytes);
  }
  if (rows !== m.records + m.rejected) {
    out.push({ path: '_manifest.json', detail: `the data files hold ${rows} rows, the manifest says ${m.records} records + ${m.rejected} rejected = ${m.records + m.rejected}` });
  }
  if (rejectedLines !== m.rejected) {
    out.push({ path: RejectedRows.fileName, detail: `${rejectedLines} rejected rows on file, the manifest says ${m.rejected}` });
  }
  return out;
}

async function recountProducts(lake: Lake, m: Manifest, config: Config): Promise<RecountMismatch[]> {
  const s = config.products;
  const validator = new ProductValidator(s.fieldMap, { dataDir: config.dataDir });
  let pages = 0;
  try {
    try {
      for await (const page of readSnapshotPages(lake, m.source, m.date, m.version)) {
        pages += 1;
        try {
          validator.check(parsePage(page.bytes, null, { itemsField: s.itemsField, totalField: s.totalField, cursorField: s.cursorField }).items);
        } catch (err) {
          if (err instanceof TransientError) throw err;
          return [{ path: PAGES_INDEX_FILE, detail: `page ${page.page} (${page.url}) cannot be read as a page: ${err instanceof Error ? err.message : String(err)}` }];
        }
      }
    } catch (err) {
      if (err instanceof TransientError) throw err;
      return [{ path: PAGES_INDEX_FILE, detail: `the pages cannot be read: ${err instanceof Error ? err.message : String(err)}` }];
    }
    await validator.finish();
  } finally {
    await validator.dispose();
  }
  const claimedPages = m.validation.pages;
  if (typeof claimedPages === 'number' && claimedPages !== pages) {
    return [{ path: '_manifest.json', detail: `the snapshot holds ${pages} pages, the manifest says ${claimedPages}` }];
  }
  const out: RecountMismatch[] = [];
  if (validator.products !== m.records) out.push({ path: '_manifest.json', detail: `the pages hold ${validator.products} products, the manifest says ${m.records}` });
  if (validator.rejected !== m.rejected) out.push({ path: '_manifest.json', detail: `${validator.rejected} products fail validation, the manifest says ${m.rejected} rejected` });
  return out;
}

const RECOUNTERS: Readonly<Record<string, (lake: Lake, m: Manifest, config: Config) => Promise<RecountMismatch[]>>> = {
  clickstream: recountClickstream,
  products: recountProducts,
};

/**
 * Recomputes from a version's data what its manifest claims (clickstream: data
 * rows = records + rejected, and the lines of `_rejected.ndjson`; products:
 * the products of the pages and how many fail validation, with the current
 * configuration's field map) and lists every difference. Reads through the
 * lake's reader; undefined for a source it cannot recount.
 */
export async function recountVersion(lake: Lake, manifest: Manifest, config: Config): Promise<RecountMismatch[] | undefined> {
  const recount = RECOUNTERS[manifest.source];
  return recount ? recount(lake, manifest, config) : undefined;
}
