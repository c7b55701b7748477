// Rate-limited product snapshot benchmark: a 10,000-product catalogue at 100
// per page (100 pages) behind the mock's fixed window of 20 requests per 1 s
// (X-RateLimit-* headers, 429 with Retry-After: 1), taken by the products
// source with its default settings, beside the same snapshot without a limit.
// The floor is pages ÷ rate (5 s); the source paces its requests by the
// headers, so it should meet few or no 429s and finish within 1.15× of it.
// A hand-back (RateLimitedError) is waited out and the source run again, as
// the queue would; none is expected.
// Uses the BUILT packages (npm run bench builds first).
//   node bench/products-rate-limit.js [--products 10000] [--page-size 100] [--rate 20/1s]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@recomart/config';
import { RateLimitedError } from '@recomart/jobs';
import { openLake } from '@recomart/lake';
import { productsSource } from '@recomart/sources';
import { spawnMock } from './mock-process.js';

const DATE = '2024-03-01';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

/** One snapshot, run again after each hand-back as the queue would; wall time from the first request to the commit. */
async function snapshot(url, products, pageSize) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'recomart-bench-ratelimit-'));
  try {
    const config = loadConfig({ DATA_DIR: dataDir, PRODUCTS_API_URL: url, PRODUCTS_PAGE_SIZE: String(pageSize), LOG_LEVEL: 'silent' });
    const lake = openLake({ dataDir });
    const started = performance.now();
    let handbacks = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await productsSource({ source: 'products', date: DATE, runId: `bench-${attempt}`, jobId: `products__${DATE}`, attempt, lake, config, logger: silent, signal: new AbortController().signal, progress() {} });
        if (result.records !== products) throw new Error(`fetched ${result.records} products, expected ${products}`);
        return { seconds: Math.round(performance.now() - started) / 1000, pages: result.files, handbacks };
      } catch (err) {
        if (!(err instanceof RateLimitedError) || attempt > 50) throw err;
        handbacks += 1;
        await delay(err.retryAfterMs ?? 1000);
      }
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runRateLimitedBench({ products = 10_000, pageSize = 100, rate = '20/1s' } = {}) {
  const m = /^(\d+)\/(\d+)s$/.exec(rate);
  if (!m) throw new Error(`--rate must look like 20/1s, got ${rate}`);
  const perSecond = Number(m[1]) / Number(m[2]);
  const out = { products, pageSize, rate };
  const unlimited = spawnMock(['--products', String(products)]);
  try {
    out.unlimited = await snapshot(await unlimited.ready, products, pageSize);
  } finally {
    unlimited.child.kill();
    await unlimited.exited;
  }
  const limited = spawnMock(['--products', String(products), '--rate-limit', rate]);
  try {
    const url = await limited.ready;
    out.limited = await snapshot(url, products, pageSize);
    const stats = await (await fetch(new URL('/__stats', url))).json();
    out.limited.requests = stats.requests;
    out.limited.rateLimited = stats.rateLimited;
    out.limited.maxServedPerWindow = stats.maxServedPerWindow;
  } finally {
    limited.child.kill();
    await limited.exited;
  }
  out.floorSeconds = out.limited.pages / perSecond;
  out.ratioToFloor = Math.round((out.limited.seconds / out.floorSeconds) * 100) / 100;
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { products: { type: 'string' }, 'page-size': { type: 'string' }, rate: { type: 'string' } } });
  const r = await runRateLimitedBench({
    ...(values.products ? { products: Number(values.products) } : {}),
    ...(values['page-size'] ? { pageSize: Number(values['page-size']) } : {}),
    ...(values.rate ? { rate: values.rate } : {}),
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
