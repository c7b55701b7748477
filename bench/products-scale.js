// Products at scale: one real `recomart worker` process takes a full snapshot
// of a 10k, 100k, 1M and 3M-product catalogue (page size 100) from the mock
// API in a process of its own; reported per size: the worker's peak RSS
// (VmHWM, read from /proc before it stops), its RSS when idle before the job,
// the wall time from enqueue to commit, the manifest's size and the number of
// files in the committed version. The bound: peak RSS flat within
// 20 MiB from 100k to 3M products.
// Uses the BUILT packages (npm run bench builds first).
//   node bench/products-scale.js [--sizes 10000,100000,1000000,3000000] [--page-size 100]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { spawnMock } from './mock-process.js';
import { dropPrefix } from './redis-keys.js';
import { spawnBenchWorker } from './worker-process.js';

const BIN = fileURLToPath(new URL('../bin/recomart.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATE = '2024-03-01';
const MIB = 1024 * 1024;

/** A /proc/<pid>/status field in MiB (VmHWM: peak resident set; VmRSS: now). */
async function procMib(pid, field) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Math.round((Number(m[1]) / 1024) * 10) / 10;
}

/** Every file under `dir`, recursively. */
async function countFiles(dir) {
  let n = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    n += entry.isDirectory() ? await countFiles(path.join(dir, entry.name)) : 1;
  }
  return n;
}

/** `recomart enqueue --source products --date D --wait --json` with `env`; resolves with its summary. */
function enqueueAndWait(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'enqueue', '--source', 'products', '--date', DATE, '--wait', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    child.stderr.on('data', (d) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`enqueue --wait exited ${code}: ${(err || out).slice(-2000)}`))));
  });
}

/** One snapshot of `products` products by one worker process; its figures. */
async function oneSize(products, pageSize, redis) {
  const mock = spawnMock(['--products', String(products), '--page-cache-mb', '0']);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'recomart-bench-scale-'));
  const prefix = `bench-scale-${randomBytes(4).toString('hex')}`;
  let worker;
  try {
    const url = await mock.ready;
    const env = { PATH: process.env.PATH, REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, LOG_LEVEL: 'warn', PRODUCTS_API_URL: url, PRODUCTS_PAGE_SIZE: String(pageSize) };
    worker = spawnBenchWorker(env, ['--sources', 'products', '--concurrency', '1']);
    await worker.ready;
    const idleRssMib = await procMib(worker.child.pid, 'VmRSS');
    const started = performance.now();
    await enqueueAndWait(env);
    const seconds = Math.round(performance.now() - started) / 1000;
    const peakRssMib = await procMib(worker.child.pid, 'VmHWM');
    const partition = path.join(dataDir, 'raw', 'products', ...DATE.split('-'));
    const versions = (await readdir(partition)).filter((n) => /^v\d+$/.test(n));
    if (versions.length !== 1) throw new Error(`expected one version in ${partition}, found ${versions.join(', ') || 'none'}`);
    const version = path.join(partition, versions[0]);
    const manifestPath = path.join(version, '_manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    if (manifest.records !== products) throw new Error(`the snapshot holds ${manifest.records} products, expected ${products}`);
    return {
      products,
      pages: Math.ceil(products / pageSize),
      seconds,
      productsPerSecond: Math.round(products / seconds),
      idleRssMib,
      peakRssMib,
      filesInVersion: await countFiles(version),
      manifestFiles: manifest.files.length,
      manifestBytes: (await stat(manifestPath)).size,
      dataMib: Math.round((manifest.files.reduce((a, f) => a + f.bytes, 0) / MIB) * 10) / 10,
    };
  } finally {
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    mock.child.kill();
    await mock.exited;
    await dropPrefix(redis, prefix);
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runProductsScaleBench({ sizes = [10_000, 100_000, 1_000_000, 3_000_000], pageSize = 100 } = {}) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const runs = [];
    for (const products of sizes) {
      process.stderr.write(`bench: products at scale: ${products.toLocaleString('en-US')} products…\n`);
      runs.push(await oneSize(products, pageSize, redis));
    }
    const at = (n) => runs.find((r) => r.products === n);
    const from = at(100_000);
    const to = at(3_000_000);
    const growthMib = from && to ? Math.round((to.peakRssMib - from.peakRssMib) * 10) / 10 : undefined;
    return { pageSize, runs, peakGrowth100kTo3mMib: growthMib, target: { flatWithinMib: 20, met: growthMib === undefined ? undefined : growthMib <= 20 } };
  } finally {
    redis.disconnect();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { sizes: { type: 'string' }, 'page-size': { type: 'string' } } });
  const r = await runProductsScaleBench({
    ...(values.sizes ? { sizes: values.sizes.split(',').map(Number) } : {}),
    ...(values['page-size'] ? { pageSize: Number(values['page-size']) } : {}),
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
