// One measurement of the clickstream benchmark, run in its own process so each
// gets a fresh heap and its own peak RSS. Prints one JSON line on stdout.
// Times only the work itself (not Node's start-up or module loading).
//   node bench/clickstream-child.js csv-parser <file.csv|file.csv.gz>
//   node bench/clickstream-child.js duckdb <file.csv|file.csv.gz>
//   node bench/clickstream-child.js ingest <dataDir> <landingDir> <date> [<s3://bucket/prefix> <S3 endpoint>]
//   (an S3 lake: credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
//   node bench/clickstream-child.js --warm <small file | date> <kind> …
//   (a warm process: the same kind of run on a small input first, untimed — a
//   worker that has run before, with its lake and hashing thread in place and
//   its code compiled; csv-parser and DuckDB get the same)
import { createReadStream, readFileSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import csvParser from 'csv-parser';
import { loadConfig } from '@recomart/config';
import { openLake } from '@recomart/lake';
import { clickstreamSource } from '@recomart/sources';
import { watchEventLoop } from './event-loop-delay.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * CPU time of the main thread alone, in seconds (Linux: its schedstat, in
 * nanoseconds), so work moved to other threads (the lake's sha256 thread,
 * libuv's pool: file I/O, gunzip) shows; undefined where there is no /proc.
 */
function mainThreadCpuSeconds() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return undefined;
  }
}
const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/** csv-parser as a user would call it: defaults, first line as header, count the rows (gunzipped on the way for .gz). */
async function csvParserCount(file) {
  const t0 = performance.now();
  let rows = 0;
  await new Promise((resolve, reject) => {
    const read = createReadStream(file).on('error', reject);
    (file.endsWith('.gz') ? read.pipe(createGunzip()).on('error', reject) : read)
      .pipe(csvParser())
      .on('data', () => {
        rows++;
      })
      .on('end', resolve)
      .on('error', reject);
  });
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

/**
 * DuckDB on one thread reading and typing the same file (.gz by its name): every column read and typed as DuckDB
 * detects it (ids as BIGINT, the timestamp as TIMESTAMP), rows it cannot read skipped (ignore_errors) rather than
 * judged and written out as ours are.
 */
async function duckdbScan(file) {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const t0 = performance.now();
  const reader = await connection.runAndReadAll(
    `SELECT count(*)::BIGINT AS n, min(timestamp)::VARCHAR AS first, max(timestamp)::VARCHAR AS last,
            count(DISTINCT event_type)::BIGINT AS events,
            count(user_id)::BIGINT AS users, count(product_id)::BIGINT AS products, sum(length(device))::BIGINT AS chars
       FROM read_csv(${`'${file.replaceAll("'", "''")}'`}, header = true, ignore_errors = true)`,
  );
  const seconds = (performance.now() - t0) / 1000;
  const [row] = reader.getRowObjectsJson();
  connection.closeSync();
  return { rows: Number(row.n), seconds };
}

/** The real clickstream source into a real lake: copy + hash + parse + validate + rejects + manifest + commit. */
async function ingest(dataDir, landingDir, date, lakeUrl, endpoint) {
  const s3 = lakeUrl === undefined ? {} : { LAKE_URL: lakeUrl, S3_ENDPOINT: endpoint, S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  const config = loadConfig({ DATA_DIR: dataDir, LANDING_DIR: landingDir, CLICKSTREAM_MAX_REJECT_RATIO: '1', ...s3 });
  const lake = openLake({ dataDir, url: config.lake.url, s3: config.lake.s3 });
  const t0 = performance.now();
  const result = await clickstreamSource({
    source: 'clickstream',
    date,
    runId: `bench-${process.pid}`,
    jobId: `clickstream__${date}`,
    attempt: 1,
    lake,
    config,
    logger: silent,
    signal: new AbortController().signal,
    progress: () => {},
  });
  return { rows: result.records + result.rejected, seconds: (performance.now() - t0) / 1000, result };
}

const argv = process.argv.slice(2);
const warm = argv[0] === '--warm' ? argv.splice(0, 2)[1] : undefined;
const [kind, ...args] = argv;
/** One run of `kind`; `input` replaces the file (csv-parser, duckdb) or the date (ingest). */
function once(input) {
  if (kind === 'csv-parser') return csvParserCount(input ?? args[0]);
  if (kind === 'duckdb') return duckdbScan(input ?? args[0]);
  if (kind === 'ingest') return ingest(args[0], args[1], input ?? args[2], args[3], args[4]);
  throw new Error(`clickstream-child: unknown kind ${JSON.stringify(kind)} (csv-parser | duckdb | ingest)`);
}
if (warm !== undefined) await once(warm);
// CPU time of the whole process (all threads: libuv's file writes and gunzip included) over the same span.
const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuSeconds();
const loop = watchEventLoop();
const out = { ...(await once()), ...(warm === undefined ? {} : { warm: true }) };
const cpu = process.cpuUsage(cpu0);
const main1 = mainThreadCpuSeconds();
const mainThread = main0 === undefined || main1 === undefined ? {} : { mainThreadCpuSeconds: main1 - main0 };
process.stdout.write(`${JSON.stringify({ ...out, ...loop.stop(), cpuSeconds: (cpu.user + cpu.system) / 1e6, ...mainThread, peakRssMb: peakRssMb() })}\n`);
