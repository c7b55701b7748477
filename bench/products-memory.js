// Worker memory over catalogue size: one products snapshot per size (page size
// 100, into a real folder lake), each in a fresh child process, which reports
// its peak RSS (getrusage maxrss) and the files of the committed version. The
// mock API runs in a process of its own. Memory must stay flat in the
// catalogue size: nothing per page is kept beyond a bounded window.
// Uses the BUILT packages.
//   node bench/products-memory.js [--sizes 10000,100000,1000000] [--page-size 100]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@recomart/config';
import { openLake } from '@recomart/lake';
import { productsSource } from '@recomart/sources';
import { spawnMock } from './mock-process.js';

const DATE = '2024-03-01';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** In the child: one snapshot, then its peak RSS and files as one JSON line. */
async function child(url, products, pageSize) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'recomart-bench-memory-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, PRODUCTS_API_URL: url, PRODUCTS_PAGE_SIZE: String(pageSize), PRODUCTS_MAX_PAGES: String(Math.ceil(products / pageSize) + 1), LOG_LEVEL: 'silent' });
    const lake = openLake({ dataDir });
    const started = Date.now();
    const result = await productsSource({ source: 'products', date: DATE, runId: 'bench-1', jobId: `products__${DATE}`, attempt: 1, lake, config, logger: silent, signal: new AbortController().signal, progress() {} });
    const manifest = await lake.readManifest('products', DATE);
    const manifestBytes = Buffer.byteLength(JSON.stringify(manifest, null, 2));
    process.stdout.write(
      `${JSON.stringify({ products: result.records, pages: result.files, seconds: (Date.now() - started) / 1000, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), files: manifest?.files.length, manifestBytes })}\n`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

function runChild(url, products, pageSize) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', '--url', url, '--products', String(products), '--page-size', String(pageSize)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`child exited with ${code}`))));
  });
}

/** Peak RSS of one snapshot per size, each against a mock of exactly that catalogue (stopped after it). */
export async function run({ sizes = [10_000, 100_000, 1_000_000], pageSize = 100 } = {}) {
  const rows = [];
  for (const products of sizes) {
    const mock = spawnMock(['--products', String(products), '--max-page-size', String(Math.max(1000, pageSize))]);
    try {
      rows.push(await runChild(await mock.ready, products, pageSize));
    } finally {
      mock.child.kill();
      await mock.exited;
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { child: { type: 'boolean' }, url: { type: 'string' }, products: { type: 'string' }, sizes: { type: 'string' }, 'page-size': { type: 'string' } } });
  const pageSize = values['page-size'] ? Number(values['page-size']) : 100;
  if (values.child) {
    await child(values.url, Number(values.products), pageSize);
  } else {
    const rows = await run({ sizes: values.sizes ? values.sizes.split(',').map(Number) : undefined, pageSize });
    for (const r of rows) console.log(JSON.stringify(r));
  }
}
