// `npm run bench`: every benchmark the issues define, on generated data, each
// figure beside its peer measured in the same run. Writes
// bench/results/latest.json and bench/results/latest.md.
//   node bench/run.js [--quick] [--only clickstream,products,productsRateLimited,productsScale,backfill,killRecovery,s3] [--skip-1gb]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'skip-1gb': { type: 'boolean' } } });
const only = values.only ? new Set(values.only.split(',')) : undefined;
const quick = values.quick === true;
const want = (name) => !only || only.has(name);

const results = {
  startedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  quick,
};
const fmt = (n, d = 0) => (typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n));
const rows = [];

async function section(name, file, fn) {
  if (!want(name)) return;
  if (!existsSync(path.join(here, file))) {
    results[name] = { skipped: `${file} not present` };
    return;
  }
  process.stderr.write(`bench: ${name}…\n`);
  const mod = await import(`./${file}`);
  try {
    results[name] = await fn(mod);
  } catch (err) {
    results[name] = { error: err instanceof Error ? err.message : String(err) };
    process.exitCode = 1;
  }
}

await section('clickstream', 'clickstream.js', (m) => m.runClickstreamBench({ rows: quick ? 200_000 : 1_000_000, skip1gb: values['skip-1gb'] === true || quick }));
await section('products', 'products.js', (m) => m.runProductsBench({ products: quick ? 20_000 : 100_000, pageSize: 100, pageCacheMb: 0 }));
await section('productsRateLimited', 'products-rate-limit.js', (m) => m.runRateLimitedBench({ products: 10_000, pageSize: 100, rate: '20/1s' }));
await section('productsScale', 'products-scale.js', (m) => m.runProductsScaleBench({ sizes: quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000, 3_000_000], pageSize: 100 }));
await section('backfill', 'backfill.js', (m) => m.runBackfillBench({ days: quick ? 60 : 365 }));
await section('killRecovery', 'kill-recovery.js', (m) => m.runKillRecoveryBench({ rounds: quick ? 1 : 3 }));
await section('s3', 's3-lake.js', (m) => m.runS3LakeBench({ rows: quick ? 200_000 : 1_000_000, products: 5000, rounds: quick ? 2 : 5, skip1gb: values['skip-1gb'] === true || quick }));
results.finishedAt = new Date().toISOString();
const s3 = results.s3;
if (s3 && !s3.error && !s3.skipped) {
  rows.push(['lake on S3: clickstream day written (stream + sha256 + claim + manifest)', `${fmt(s3.seconds.fileS3.bestSeconds, 3)} s`, `plain SDK upload ${fmt(s3.seconds.filePlain.bestSeconds, 3)} s · folder ${fmt(s3.seconds.fileFolder.bestSeconds, 3)} s`, `${fmt(s3.ratios.fileLakeVsPlain, 2)}× plain (target ≤ 1.2×)`]);
  rows.push([`lake on S3: ${fmt(s3.products)}-product snapshot (${s3.pages} pages)`, `${fmt(s3.seconds.pagesS3.bestSeconds, 3)} s`, `plain SDK PUTs ${fmt(s3.seconds.pagesPlain.bestSeconds, 3)} s · folder ${fmt(s3.seconds.pagesFolder.bestSeconds, 3)} s`, `${fmt(s3.ratios.pagesLakeVsPlain, 2)}× plain (target ≤ 1.2×)`]);
  rows.push(['clickstream source into S3 / into the folder', `${fmt(s3.rowsPerSecond.sourceS3)} rows/s`, `${fmt(s3.rowsPerSecond.sourceFolder)} rows/s`, `${fmt(s3.ratios.sourceS3VsFolder, 2)}× the folder's time`]);
  if (s3.oneGb && !s3.oneGb.skipped) rows.push(['1 GB file into S3, peak RSS', `${fmt(s3.oneGb.peakRssMb)} MB`, 'limit 200 MB', s3.oneGb.met ? 'ok' : 'OVER']);
}

// The Markdown table: each figure with its peer and the ratio.
const c = results.clickstream;
if (c && !c.error && !c.skipped) {
  for (const [label, r] of [
    ['', c],
    [' (gzip)', c.gzip],
  ]) {
    if (!r) continue;
    const ours = r.ours;
    const cpu = (x) => (x?.rowsPerCpuSecond === undefined ? '' : ` · ${fmt(x.rowsPerCpuSecond)}/CPU-s`);
    rows.push([`clickstream ingest${label} (copy+hash+validate+rejects+manifest)`, `${fmt(ours?.rowsPerSecond)} rows/s${cpu(ours)}`, `csv-parser parse-only ${fmt(r.csvParser?.rowsPerSecond)} rows/s${cpu(r.csvParser)}`, `${fmt(r.ratios?.oursVsCsvParser, 2)}× wall, ${fmt(r.ratios?.oursVsCsvParserCpu, 2)}× CPU (target ≥ 2×)`]);
    if (r.duckdb?.skipped) rows.push([`DuckDB${label}`, `skipped: ${r.duckdb.skipped}`, '', '']);
    if (r.duckdb && !r.duckdb.skipped) rows.push([`clickstream ingest${label} vs DuckDB`, `${fmt(ours?.rowsPerSecond)} rows/s`, `DuckDB 1-thread typed scan ${fmt(r.duckdb.rowsPerSecond)} rows/s${cpu(r.duckdb)}`, `our time ${fmt(r.ratios.oursTimeVsDuckdb, 2)}× wall, ${fmt(r.ratios.oursTimeVsDuckdbCpu, 2)}× CPU (goal ≤ 1.5×)`]);
    if (r.python && !r.python.skipped) rows.push([`clickstream ingest${label} vs Python csv copy`, `${fmt(ours?.rowsPerSecond)} rows/s`, `python3 csv ${fmt(r.python.rowsPerSecond)} rows/s`, `${fmt(r.ratios.oursVsPython, 2)}×`]);
  }
  if (c.ours?.peakRssMb !== undefined) rows.push(['clickstream ingest peak RSS', `${fmt(c.ours.peakRssMb)} MB`, '', '']);
  const big = c.oneGb ?? c.bigFile;
  if (big && !big.skipped) rows.push(['1 GB file ingest peak RSS', `${fmt(big.peakRssMb)} MB`, 'limit 200 MB', big.peakRssMb < 200 ? 'ok' : 'OVER']);
}
const p = results.products;
if (p && !p.error && !p.skipped) {
  const ours = p.ours;
  const naive = p.naive;
  rows.push(['product snapshot, 100 per page (mock renders every page, no cache)', `${fmt(ours?.productsPerSecond)} products/s · ${fmt(ours?.requestsPerSecond)} req/s`, `naive fetch loop ${fmt(naive?.productsPerSecond)} products/s`, `${fmt(ours?.productsPerSecond / naive?.productsPerSecond, 2)}× (target ≥ 1×)`]);
}
const ps = results.productsScale;
if (ps && !ps.error && !ps.skipped) {
  for (const r of ps.runs) {
    rows.push([`product snapshot of ${fmt(r.products)} at ${ps.pageSize}/page, one worker process`, `peak RSS ${fmt(r.peakRssMib, 1)} MiB (idle ${fmt(r.idleRssMib, 1)})`, `${fmt(r.filesInVersion)} files in the version · manifest ${fmt(r.manifestBytes / 1024, 1)} KiB · ${fmt(r.seconds, 1)} s`, '']);
  }
  if (ps.peakGrowth100kTo3mMib !== undefined) rows.push(['product snapshot peak RSS, 100k → 3M products', `+${fmt(ps.peakGrowth100kTo3mMib, 1)} MiB`, 'bound 20 MiB', ps.target.met ? 'ok' : 'OVER']);
}
const rl = results.productsRateLimited;
if (rl && !rl.error && !rl.skipped) {
  rows.push([
    `product snapshot ${fmt(rl.products)} at ${rl.pageSize}/page behind a ${rl.rate} fixed window`,
    `${fmt(rl.limited.seconds, 2)} s · ${fmt(rl.limited.rateLimited)} × 429 · ${fmt(rl.limited.handbacks)} hand-backs`,
    `floor (pages ÷ rate) ${fmt(rl.floorSeconds, 2)} s · unlimited ${fmt(rl.unlimited.seconds, 2)} s`,
    `${fmt(rl.ratioToFloor, 2)}× floor (target ≤ 1.15×)`,
  ]);
}
const b = results.backfill;
if (b && !b.error && !b.skipped) {
  rows.push([`backfill ${b.backfill.one.partitions} small partitions, 1 worker`, `${fmt(b.backfill.one.partitionsPerSecond, 1)} partitions/s`, '', '']);
  rows.push([`backfill ${b.backfill.two.partitions} small partitions, 2 workers`, `${fmt(b.backfill.two.partitionsPerSecond, 1)} partitions/s`, '1 worker', `${fmt(b.backfill.scaling, 2)}× scaling`]);
  rows.push(['per-job overhead', `${fmt(b.overhead.oursMsPerJob, 2)} ms/job`, `BullMQ no-op ${fmt(b.overhead.bullmqNoopMsPerJob, 2)} ms/job`, `+${fmt(b.overhead.overheadMsPerJob, 2)} ms/job`]);
}
const k = results.killRecovery;
if (k && !k.error && !k.skipped) {
  rows.push([`SIGKILL mid-write → next attempt on the other worker (default locks ${k.lockMs} ms, stall check ${k.stalledIntervalMs} ms)`, `worst ${fmt(k.worstSeconds, 1)} s of ${k.seconds.length} (${k.seconds.map((x) => fmt(x, 1)).join(', ')} s)`, `target ${k.targetSeconds} s`, k.met ? 'ok' : 'OVER']);
}
// A worker renews its lock from the event loop every WORKER_LOCK_MS / 2: the worst delay must stay far below it.
const renewMs = (k?.lockMs ?? 10_000) / 2;
const bigIngest = c?.oneGb ?? {};
if (bigIngest.eventLoopMaxMs !== undefined) rows.push(['worst event-loop delay, 1 GB clickstream ingest', `${fmt(bigIngest.eventLoopMaxMs)} ms (p99 ${fmt(bigIngest.eventLoopP99Ms)} ms)`, `lock renewal every ${fmt(renewMs)} ms`, `${fmt((bigIngest.eventLoopMaxMs / renewMs) * 100, 1)}% of it`]);
if (p?.eventLoopMaxMs !== undefined) rows.push([`worst event-loop delay, ${fmt(p.products)}-product snapshot (every round)`, `${fmt(p.eventLoopMaxMs)} ms`, `lock renewal every ${fmt(renewMs)} ms`, `${fmt((p.eventLoopMaxMs / renewMs) * 100, 1)}% of it`]);
for (const [name, r] of Object.entries(results)) if (r && typeof r === 'object' && (r.error || r.skipped)) rows.push([name, r.error ? `ERROR: ${r.error}` : `skipped: ${r.skipped}`, '', '']);

const md = [
  `Benchmark run ${results.startedAt} on ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}${quick ? ' (quick)' : ''}.`,
  '',
  '| what | ours | peer (same run) | ratio |',
  '|---|---|---|---|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
].join('\n');
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(path.join(here, 'results', 'latest.md'), md);
process.stdout.write(md);
