// One measurement of the clickstream benchmark, run in its own process so each
// gets a fresh heap and its own peak RSS. Prints one JSON line on stdout.
// Times only the work itself (not Node's start-up or module loading).
//   node bench/clickstream-child.js csv-parser <file.csv>
//   node bench/clickstream-child.js ingest <dataDir> <landingDir> <date>
import { createReadStream } from 'node:fs';
import csvParser from 'csv-parser';
import { loadConfig } from '@recomart/config';
import { openLake } from '@recomart/lake';
import { clickstreamSource } from '@recomart/sources';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/** csv-parser as a user would call it: defaults, first line as header, count the rows. */
async function csvParserCount(file) {
  const t0 = performance.now();
  let rows = 0;
  await new Promise((resolve, reject) => {
    createReadStream(file)
      .on('error', reject)
      .pipe(csvParser())
      .on('data', () => {
        rows++;
      })
      .on('end', resolve)
      .on('error', reject);
  });
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

/** The real clickstream source into a real lake: copy + hash + parse + validate + rejects + manifest + commit. */
async function ingest(dataDir, landingDir, date) {
  const config = loadConfig({ DATA_DIR: dataDir, LANDING_DIR: landingDir, CLICKSTREAM_MAX_REJECT_RATIO: '1' });
  const lake = openLake({ dataDir });
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

const [kind, ...args] = process.argv.slice(2);
let out;
// CPU time of the whole process (all threads: libuv's file writes and gunzip included) over the same span.
const cpu0 = process.cpuUsage();
if (kind === 'csv-parser') out = await csvParserCount(args[0]);
else if (kind === 'ingest') out = await ingest(args[0], args[1], args[2]);
else throw new Error(`clickstream-child: unknown kind ${JSON.stringify(kind)} (csv-parser | ingest)`);
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ...out, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMb: peakRssMb() })}\n`);
