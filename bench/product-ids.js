// Product id duplicate detection alone: synthetic products (pages of 100, 1% of
// them repeating an earlier id) fed through ProductValidator, each run in a
// child process of its own so its peak RSS is its own. Variants: `none` (the
// products generated, nothing validated: the floor), `after` (this checkout's
// built validator, spilling ids to a temp data dir) and, with --before
// <dist/index.js of another checkout>, `before` (that checkout's validator).
// Reports peak RSS, peak heap used (sampled every 100 pages) and seconds per
// million products.
// BATCH=<n> sets the validator's batchSize (ids in memory before a spill).
// Uses the BUILT packages.
//   node bench/product-ids.js [--sizes 100000,1000000,3000000] [--before /work/main/packages/sources/dist/index.js]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { sizes: { type: 'string' }, before: { type: 'string' }, child: { type: 'string' }, products: { type: 'string' }, module: { type: 'string' } },
});

const PAGE = 100;
const categories = ['Books', 'Electronics'];

function page(start, products) {
  const items = [];
  for (let i = start; i < Math.min(start + PAGE, products); i++) {
    // Every 100th product repeats an id from about half way back.
    const n = i % 100 === 99 ? Math.floor(i / 2) : i;
    items.push({ product_id: `SKU-${String(n).padStart(9, '0')}`, category: categories[i % 2], brand: 'Brand', price: (i % 1000) / 10, popularity_score: 1 });
  }
  return items;
}

async function child(variant, products, modulePath) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-ids-'));
  let validator;
  if (variant !== 'none') {
    const { ProductValidator } = await import(pathToFileURL(modulePath).href);
    validator = new ProductValidator({}, { dataDir, ...(process.env.BATCH ? { batchSize: Number(process.env.BATCH) } : {}) });
  }
  let peakHeap = 0;
  const t0 = process.hrtime.bigint();
  for (let start = 0, p = 0; start < products; start += PAGE, p++) {
    const items = page(start, products);
    if (validator) validator.check(items);
    if (p % 100 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }
  if (validator?.finish) await validator.finish();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const out = {
    variant,
    products,
    duplicates: validator ? validator.counts.duplicateProductId : null,
    rejected: validator ? validator.rejected : null,
    seconds,
    secondsPerMillion: seconds / (products / 1e6),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    peakHeapMiB: peakHeap / 2 ** 20,
  };
  if (validator?.dispose) await validator.dispose();
  rmSync(dataDir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(out));
}

if (values.child) {
  await child(values.child, Number(values.products), values.module);
} else {
  const sizes = (values.sizes ?? '100000,1000000,3000000').split(',').map(Number);
  const after = path.join(here, '..', 'packages', 'sources', 'dist', 'index.js');
  const variants = [['none', after], ...(values.before ? [['before', values.before]] : []), ['after', after]];
  const rows = [];
  for (const products of sizes) {
    for (const [variant, mod] of variants) {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', variant, '--products', String(products), '--module', mod], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${variant} ${products}: ${r.stderr}`);
      const row = JSON.parse(r.stdout);
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  }
  const f = (n, d = 1) => (n === null ? '—' : n.toFixed(d));
  console.log('| products | variant | duplicates | peak RSS MiB | peak heap MiB | s per 1M products |');
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.products.toLocaleString('en-US')} | ${r.variant} | ${r.duplicates ?? '—'} | ${f(r.peakRssMiB)} | ${f(r.peakHeapMiB)} | ${f(r.secondsPerMillion, 2)} |`);
}
