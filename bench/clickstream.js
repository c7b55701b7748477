// Clickstream benchmark: one generated day, plain and gzipped, ingested by the
// clickstream source (copy + sha256 + parse + validation + rejected rows +
// manifest + commit into a real lake) against, on the same files in the same
// run, csv-parser alone counting rows, DuckDB on one thread reading and typing
// them, and python3's csv module copying them. Each measurement is its own
// process (own peak RSS, CPU time of all its threads), warm as a running worker
// is: it first runs the same kind of work on a small day, untimed (csv-parser
// and DuckDB likewise; the issue measured csv-parser in a warm process). All are
// interleaved and repeated; the fastest rounds are compared (medians and rows
// per CPU-second are reported too). Then a ~1 GB day checks that the ingest's
// peak RSS stays under 200 MB.
// Uses the BUILT packages (npm run bench builds first).
//   node bench/clickstream.js [--rows 1000000] [--repeats 5] [--dirty 0.002] [--skip-1gb] [--large-bytes 1000000000] [--dir D] [--json]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateClickstreamDay } from '@recomart/sources';

const CHILD = fileURLToPath(new URL('./clickstream-child.js', import.meta.url));
const DATE = '2024-05-01';
const LARGE_DATE = '2024-05-02';
const GZIP_DATE = '2024-05-03';
/** Small days each timed process runs first, untimed (a warm process: see clickstream-child.js). */
const WARM_DATE = '2024-05-04';
const WARM_GZIP_DATE = '2024-05-05';
const WARM_ROWS = 20_000;
/** The issues' targets: ≥ 2× csv-parser parse-only rows/s (issue 14); within 1.5× of DuckDB's single-thread scan (a goal, reported). */
const TARGET_RATIO = 2;
const DUCKDB_GOAL = 1.5;
const RSS_LIMIT_MB = 200;

/** python3's csv module reading the file (gunzipping a .gz) and writing every row to another file; times the loop only. */
const PYTHON_COPY = `
import csv, gzip, json, sys, time
src, dst = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
c0 = time.process_time()
n = 0
with (gzip.open(src, 'rt', newline='') if src.endswith('.gz') else open(src, newline='')) as fi, open(dst, 'w', newline='') as fo:
    w = csv.writer(fo)
    for row in csv.reader(fi):
        w.writerow(row)
        n += 1
print(json.dumps({"rows": n - 1, "seconds": time.perf_counter() - t0, "cpuSeconds": time.process_time() - c0}))
`;

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} exited ${code}: ${err.trim().split('\n').pop()}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${path.basename(cmd)} printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (n, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

/**
 * Rows/s of the fastest round (the headline: other processes on the machine
 * only ever add time, so the fastest round is the least disturbed), and of the
 * median round.
 */
function summarize(samples) {
  const times = samples.map((s) => s.seconds);
  const best = Math.min(...times);
  const mid = median(times);
  const rows = samples[0].rows;
  return {
    rows,
    rowsPerSecond: round(rows / best),
    medianRowsPerSecond: round(rows / mid),
    bestSeconds: round(best, 3),
    medianSeconds: round(mid, 3),
    seconds: times.map((t) => round(t, 3)),
    // CPU time is far less disturbed by other processes than wall time: a steadier comparison on a busy machine.
    rowsPerCpuSecond: round(rows / Math.min(...samples.map((s) => s.cpuSeconds))),
    // The main thread's own CPU time (best and median round): what moving work to other threads saves it.
    ...(samples[0].mainThreadCpuSeconds === undefined
      ? {}
      : { mainThreadCpuSeconds: round(Math.min(...samples.map((s) => s.mainThreadCpuSeconds)), 3), medianMainThreadCpuSeconds: round(median(samples.map((s) => s.mainThreadCpuSeconds)), 3) }),
    ...(samples[0].peakRssMb === undefined ? {} : { peakRssMb: Math.max(...samples.map((s) => s.peakRssMb)) }),
  };
}

async function ingestOnce(dir, landingDir, date, warmDate) {
  const dataDir = await mkdtemp(path.join(dir, 'lake-'));
  try {
    return await run(process.execPath, [CHILD, ...(warmDate === undefined ? [] : ['--warm', warmDate]), 'ingest', dataDir, landingDir, date]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * @param {{ rows?: number, dir?: string, repeats?: number, dirty?: number, skip1gb?: boolean, largeBytes?: number, log?: (line: string) => void }} options
 *   rows: rows of the benchmark day (default 1,000,000); dir: work folder (default a temp folder, removed after);
 *   repeats: interleaved rounds (default 5); dirty: share of defective rows, so the rejected-row path is part of
 *   the measurement (default 0.002, under the 1% reject limit); skip1gb: skip the ~1 GB RSS check;
 *   largeBytes: size of that file (default 1e9).
 */
export async function runClickstreamBench(options = {}) {
  const rows = options.rows ?? 1_000_000;
  const repeats = options.repeats ?? 5;
  const dirty = options.dirty ?? 0.002;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), 'recomart-bench-clickstream-')));
  const landingDir = path.join(dir, 'landing');
  try {
    log(`clickstream: generating ${rows} rows, plain and gzip…`);
    const g0 = performance.now();
    const day = await generateClickstreamDay({ landingDir, date: DATE, rows, files: 1, seed: 'bench', dirty });
    const generateSeconds = (performance.now() - g0) / 1000;
    // The same rows (same seed), gzipped, on another day.
    const gzDay = await generateClickstreamDay({ landingDir, date: GZIP_DATE, rows, files: 1, seed: 'bench', dirty, gzip: true });
    const file = day.files[0];
    const gzFile = gzDay.files[0];
    // What every timed process runs first (untimed): a small day of the same kind, so each is measured warm.
    const warmDay = await generateClickstreamDay({ landingDir, date: WARM_DATE, rows: WARM_ROWS, files: 1, seed: 'bench-warm', dirty });
    const warmGzDay = await generateClickstreamDay({ landingDir, date: WARM_GZIP_DATE, rows: WARM_ROWS, files: 1, seed: 'bench-warm', dirty, gzip: true });

    // Every contender on both files in each round, back to back, so a round's figures share the machine's load.
    const kinds = ['csvParser', 'ours', 'duckdb', 'python'];
    const samples = Object.fromEntries(['plain', 'gzip'].map((k) => [k, Object.fromEntries(kinds.map((c) => [c, []]))]));
    const skipped = {};
    const attempt = async (name, fn) => {
      if (skipped[name]) return undefined;
      try {
        return await fn();
      } catch (err) {
        skipped[name] = err instanceof Error ? err.message : String(err);
        return undefined;
      }
    };
    for (let r = 1; r <= repeats; r++) {
      log(`clickstream: round ${r}/${repeats}`);
      for (const [kind, f, date, w] of [
        ['plain', file, DATE, { file: warmDay.files[0].path, date: WARM_DATE }],
        ['gzip', gzFile, GZIP_DATE, { file: warmGzDay.files[0].path, date: WARM_GZIP_DATE }],
      ]) {
        const s = samples[kind];
        s.csvParser.push(await run(process.execPath, [CHILD, '--warm', w.file, 'csv-parser', f.path]));
        s.ours.push(await ingestOnce(dir, landingDir, date, w.date));
        const duck = await attempt('duckdb', () => run(process.execPath, [CHILD, '--warm', w.file, 'duckdb', f.path]));
        if (duck) s.duckdb.push(duck);
        const py = await attempt('python', async () => {
          try {
            return await run('python3', ['-c', PYTHON_COPY, f.path, path.join(dir, 'python-copy.csv')]);
          } finally {
            await rm(path.join(dir, 'python-copy.csv'), { force: true });
          }
        });
        if (py) s.python.push(py);
      }
    }
    const figures = (s) => {
      const csvParser = summarize(s.csvParser);
      const ours = { ...summarize(s.ours), rejected: s.ours[0].result.rejected };
      const python = s.python.length ? summarize(s.python) : { skipped: skipped.python };
      const duckdb = s.duckdb.length ? summarize(s.duckdb) : { skipped: skipped.duckdb };
      return {
        csvParser,
        ours,
        python,
        duckdb,
        ratios: {
          oursVsCsvParser: round(ours.rowsPerSecond / csvParser.rowsPerSecond, 3),
          oursVsCsvParserMedian: round(ours.medianRowsPerSecond / csvParser.medianRowsPerSecond, 3),
          oursVsCsvParserCpu: round(ours.rowsPerCpuSecond / csvParser.rowsPerCpuSecond, 3),
          oursVsPython: python.rowsPerSecond ? round(ours.rowsPerSecond / python.rowsPerSecond, 3) : null,
          // ours' time over DuckDB's (the goal: at most 1.5): rows/s of DuckDB over ours.
          oursTimeVsDuckdb: duckdb.rowsPerSecond ? round(duckdb.rowsPerSecond / ours.rowsPerSecond, 3) : null,
          oursTimeVsDuckdbCpu: duckdb.rowsPerCpuSecond ? round(duckdb.rowsPerCpuSecond / ours.rowsPerCpuSecond, 3) : null,
          // Each round runs the contenders back to back, so a round's ratio shares its load.
          oursVsCsvParserPerRound: s.ours.map((o, i) => round(s.csvParser[i].seconds / o.seconds, 3)),
        },
      };
    };
    const plain = figures(samples.plain);
    const gzip = { fileBytes: gzFile.bytes, ...figures(samples.gzip) };
    const result = {
      rows,
      fileBytes: file.bytes,
      dirty,
      generate: { seconds: round(generateSeconds, 2), rowsPerSecond: round(rows / generateSeconds) },
      ...plain,
      gzip,
      target: { oursVsCsvParser: TARGET_RATIO, met: plain.ratios.oursVsCsvParser >= TARGET_RATIO, oursTimeVsDuckdb: DUCKDB_GOAL },
    };
    await rm(landingDir, { recursive: true, force: true });

    if (options.skip1gb) {
      result.oneGb = { skipped: 'skipped (--skip-1gb)' };
    } else {
      const largeBytes = options.largeBytes ?? 1e9;
      const largeRows = Math.ceil(largeBytes / (file.bytes / rows));
      log(`clickstream: generating a ~${round(largeBytes / 1e9, 2)} GB day (${largeRows} rows)…`);
      const big = await generateClickstreamDay({ landingDir, date: LARGE_DATE, rows: largeRows, files: 1, seed: 'bench-large', dirty });
      log('clickstream: ingesting it…');
      const s = await ingestOnce(dir, landingDir, LARGE_DATE);
      result.oneGb = {
        bytes: big.files[0].bytes,
        rows: s.rows,
        seconds: round(s.seconds, 2),
        rowsPerSecond: round(s.rows / s.seconds),
        peakRssMb: s.peakRssMb,
        // The worst event-loop delay of the ingesting process (a worker renews its job lock from that loop).
        eventLoopMaxMs: s.eventLoopMaxMs,
        eventLoopP99Ms: s.eventLoopP99Ms,
        limitMb: RSS_LIMIT_MB,
        met: s.peakRssMb < RSS_LIMIT_MB,
      };
      await rm(landingDir, { recursive: true, force: true });
    }
    return result;
  } finally {
    if (ownDir) await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      repeats: { type: 'string' },
      dirty: { type: 'string' },
      'skip-1gb': { type: 'boolean' },
      'large-bytes': { type: 'string' },
      dir: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const result = await runClickstreamBench({
    rows: values.rows === undefined ? undefined : Number(values.rows),
    repeats: values.repeats === undefined ? undefined : Number(values.repeats),
    dirty: values.dirty === undefined ? undefined : Number(values.dirty),
    skip1gb: values['skip-1gb'] === true,
    largeBytes: values['large-bytes'] === undefined ? undefined : Number(values['large-bytes']),
    dir: values.dir,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const f = (n) => n.toLocaleString('en-US');
    const block = (title, r) => [
      `${title}: rows/s of the fastest round (median round) [seconds per round]; rows per CPU-second`,
      `  csv-parser alone (count rows): ${f(r.csvParser.rowsPerSecond)} (${f(r.csvParser.medianRowsPerSecond)}) [${r.csvParser.seconds.join(', ')}]; ${f(r.csvParser.rowsPerCpuSecond)}/CPU-s`,
      `  our ingest (full):             ${f(r.ours.rowsPerSecond)} (${f(r.ours.medianRowsPerSecond)}) [${r.ours.seconds.join(', ')}]; ${f(r.ours.rowsPerCpuSecond)}/CPU-s, peak RSS ${r.ours.peakRssMb} MB, ${f(r.ours.rejected)} rejected`,
      r.ours.mainThreadCpuSeconds === undefined ? '' : `  our main thread's CPU time:    ${r.ours.mainThreadCpuSeconds} s best, ${r.ours.medianMainThreadCpuSeconds} s median (the rest of its CPU time ran on other threads)`,
      r.duckdb.skipped ? `  DuckDB: skipped (${r.duckdb.skipped})` : `  DuckDB, 1 thread, typed scan: ${f(r.duckdb.rowsPerSecond)} (${f(r.duckdb.medianRowsPerSecond)}) [${r.duckdb.seconds.join(', ')}]; ${f(r.duckdb.rowsPerCpuSecond)}/CPU-s`,
      r.python.skipped ? `  python3 csv: skipped (${r.python.skipped})` : `  python3 csv copy:              ${f(r.python.rowsPerSecond)} (${f(r.python.medianRowsPerSecond)}) [${r.python.seconds.join(', ')}]; ${f(r.python.rowsPerCpuSecond)}/CPU-s`,
      `  ours / csv-parser: ${r.ratios.oursVsCsvParser}× fastest, ${r.ratios.oursVsCsvParserMedian}× median, ${r.ratios.oursVsCsvParserCpu}× per CPU-second (target ≥ ${TARGET_RATIO}×); per round ${r.ratios.oursVsCsvParserPerRound.join(', ')}`,
      r.ratios.oursTimeVsDuckdb === null ? '' : `  ours' time / DuckDB's: ${r.ratios.oursTimeVsDuckdb}× wall, ${r.ratios.oursTimeVsDuckdbCpu}× CPU (goal ≤ ${DUCKDB_GOAL}×)`,
      r.ratios.oursVsPython === null ? '' : `  ours / python3 csv: ${r.ratios.oursVsPython}×`,
    ];
    const lines = [
      `day: ${f(result.rows)} rows, ${(result.fileBytes / 1e6).toFixed(1)} MB plain, ${(result.gzip.fileBytes / 1e6).toFixed(1)} MB gzip (generated in ${result.generate.seconds} s)`,
      ...block('plain .csv', result),
      ...block('gzip .csv.gz', result.gzip),
      result.oneGb.skipped
        ? `1 GB check: ${result.oneGb.skipped}`
        : `1 GB check: ${(result.oneGb.bytes / 1e9).toFixed(2)} GB, ${f(result.oneGb.rows)} rows in ${result.oneGb.seconds} s, peak RSS ${result.oneGb.peakRssMb} MB (limit ${RSS_LIMIT_MB} MB: ${result.oneGb.met ? 'ok' : 'OVER'})`,
    ];
    process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`);
  }
}
