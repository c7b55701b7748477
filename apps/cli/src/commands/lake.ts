import { boolFlag, intFlag, parseFlags, printJson, stringFlag, UsageError, type Command, type CommandIo } from '@recomart/command';
import { loadConfig, type Config } from '@recomart/config';
import { InvalidInputError, parseLogicalDate } from '@recomart/jobs';
import { checkSourceName, currentVersions, openLake, type Lake, type Manifest, type VerifyProblem } from '@recomart/lake';
import { echoInput } from '@recomart/logging';
import { deepVerify } from './deep-verify.js';
import { watch, WATCH_HELP } from './lake-watch.js';

const LS_HELP = `Usage: recomart lake ls [--source S] [--from D] [--to D] [--json]

Lists committed partitions: per source and date, the versions and a summary
of the latest (files, bytes, records, when it was committed).

Options:
  --source S   only this source (default: every source)
  --from D     only dates on or after D (YYYY-MM-DD)
  --to D       only dates on or before D (YYYY-MM-DD)
  --json       machine-readable output on stdout`;

const SHOW_HELP = `Usage: recomart lake show --source S --date D [--version N] [--json]

Prints the manifest of a partition's latest version (or of version N): who
wrote it and when, counts, validation summary and every file with its size,
sha256 and origin. Exit 1 when the partition has no such version.

Options:
  --source S    the source (required)
  --date D      the logical date, YYYY-MM-DD (required)
  --version N   a given version (default: the latest)
  --json        the manifest as JSON on stdout`;

const VERIFY_HELP = `Usage: recomart lake verify [--source S] [--date D] [--deep] [--json]

Re-hashes every file of every committed version against its manifest, and
each manifest against the digest recorded beside it (_manifest.json.sha256),
and reports missing, extra and corrupt files and unreadable or altered
manifests, each with its path. Never repairs anything. Exit 0 only when
everything verifies, 1 otherwise.

Options:
  --source S   only this source (default: every source)
  --date D     only this logical date, YYYY-MM-DD (default: every date)
  --deep       also recompute from the data what each manifest claims
               (clickstream rows and rejected lines, product counts) and
               report every difference as a mismatch
  --json       the report as JSON on stdout`;

const CURRENT_HELP = `Usage: recomart lake current --source S [--from D] [--to D] [--json]

What a downstream reader should read: per committed partition, only its
current (latest) version, its manifest and the URI of every file
(file:///… on the folder lake). Point a query engine at these files, not at
raw/<source>/**, so a reprocessed day counts once.

Options:
  --source S   the source (required)
  --from D     only dates on or after D (YYYY-MM-DD)
  --to D       only dates on or before D (YYYY-MM-DD)
  --json       {"source", "partitions": [{date, version, manifest, records, rejected, files: [{path, uri, bytes, sha256}]}]}`;

const SWEEP_HELP = `Usage: recomart lake sweep [--max-age-ms N] [--json]

Removes staging leftovers of crashed or killed writers (raw/.staging/) whose
newest file is older than N milliseconds. Never touches a committed version.

Options:
  --max-age-ms N   age limit (default: LAKE_STAGING_MAX_AGE_MS, 6 hours unless set)
  --json           the list of removed folders as JSON on stdout`;

const HELP = `Usage: recomart lake <ls|show|current|verify|sweep|watch> [options]

Reads, checks and tidies the raw lake (LAKE_URL: $DATA_DIR/raw, or a bucket)
(<source>/<yyyy>/<mm>/<dd>/v<N>/ with _manifest.json).

${LS_HELP}

${SHOW_HELP}

${CURRENT_HELP}

${VERIFY_HELP}

${SWEEP_HELP}

${WATCH_HELP}

Exit codes: 0 success, 1 failure (or problems found by verify), 2 bad usage or bad input.`;

const SUBCOMMANDS = ['ls', 'show', 'current', 'verify', 'sweep', 'watch'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const SUB_HELP: Record<Subcommand, string> = { ls: LS_HELP, show: SHOW_HELP, current: CURRENT_HELP, verify: VERIFY_HELP, sweep: SWEEP_HELP, watch: WATCH_HELP };

/** One partition in `lake ls`. */
interface PartitionRow {
  source: string;
  date: string;
  versions: number[];
  latest: { version: number; files: number; bytes: number; records: number; rejected: number; committedAt: string };
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function optionalSource(raw: string | undefined): string | undefined {
  return raw === undefined ? undefined : checkSourceName(raw, '--source');
}

function optionalDate(raw: string | undefined, label: string): string | undefined {
  return raw === undefined ? undefined : parseLogicalDate(raw, label);
}

function required(value: string | undefined, flag: string, sub: Subcommand): string {
  if (value === undefined) throw new UsageError(`lake ${sub}: ${flag} is required`);
  return value;
}

function lakeOf(io: CommandIo): { lake: Lake; config: Config; stagingMaxAgeMs: number } {
  const config = loadConfig(io.env);
  return { lake: openLake({ dataDir: config.dataDir, url: config.lake.url, s3: config.lake.s3 }), config, stagingMaxAgeMs: config.lake.stagingMaxAgeMs };
}

async function ls(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake ls', argv, { source: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } });
  const source = optionalSource(stringFlag(f, 'source'));
  const from = optionalDate(stringFlag(f, 'from'), '--from');
  const to = optionalDate(stringFlag(f, 'to'), '--to');
  if (from !== undefined && to !== undefined && from > to) throw new InvalidInputError(`--from ${from} is after --to ${to}`);
  const { lake } = lakeOf(io);
  const rows: PartitionRow[] = [];
  for (const src of source === undefined ? await lake.listSources() : [source]) {
    for (const date of await lake.listPartitions(src, { from, to })) {
      const versions = await lake.listVersions(src, date);
      const m = await lake.readManifest(src, date);
      if (!m) continue; // lost between listing and reading: nothing committed is ever removed, so only a tampered folder
      rows.push({
        source: src,
        date,
        versions,
        latest: {
          version: m.version,
          files: m.files.length,
          bytes: m.files.reduce((sum, file) => sum + file.bytes, 0),
          records: m.records,
          rejected: m.rejected,
          committedAt: m.committedAt,
        },
      });
    }
  }
  if (boolFlag(f, 'json')) {
    printJson(io, { partitions: rows });
    return 0;
  }
  if (rows.length === 0) {
    io.stdout.write(`no committed partitions${source === undefined ? '' : ` of ${source}`}${from || to ? ` from ${from ?? 'the start'} to ${to ?? 'the end'}` : ''}\n`);
    return 0;
  }
  const header = ['SOURCE', 'DATE', 'VERSIONS', 'LATEST', 'FILES', 'BYTES', 'RECORDS', 'REJECTED', 'COMMITTED'];
  const lines = rows.map((r) => [
    r.source,
    r.date,
    String(r.versions.length),
    `v${r.latest.version}`,
    String(r.latest.files),
    formatBytes(r.latest.bytes),
    String(r.latest.records),
    String(r.latest.rejected),
    r.latest.committedAt,
  ]);
  io.stdout.write(`${table([header, ...lines])}\n`);
  return 0;
}

function printManifest(io: CommandIo, m: Manifest, versions: number[], dir: string): void {
  const bytes = m.files.reduce((sum, file) => sum + file.bytes, 0);
  const lines = [
    `${m.source} ${m.date} v${m.version} (versions: ${versions.map((v) => `v${v}`).join(', ')})`,
    `  path        ${dir}`,
    `  run         ${m.runId} (job ${m.jobId}, attempt ${m.attempt}) on ${m.worker.host} pid ${m.worker.pid}`,
    `  started     ${m.startedAt}`,
    `  committed   ${m.committedAt}`,
    `  code        ${m.codeVersion}`,
    `  records     ${m.records} (rejected ${m.rejected})`,
    `  validation  ${JSON.stringify(m.validation)}`,
    ...(m.provenance === undefined ? [] : [`  provenance  ${JSON.stringify(m.provenance)}`]),
    `  files       ${m.files.length} (${formatBytes(bytes)})`,
    ...m.files.map((file) => `    ${file.sha256}  ${String(file.bytes).padStart(12)}  ${file.path}  <- ${file.origin}`),
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
}

async function show(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake show', argv, { source: { type: 'string' }, date: { type: 'string' }, version: { type: 'string' }, json: { type: 'boolean' } });
  const source = checkSourceName(required(stringFlag(f, 'source'), '--source', 'show'), '--source');
  const date = parseLogicalDate(required(stringFlag(f, 'date'), '--date', 'show'), '--date');
  const version = intFlag('version', stringFlag(f, 'version'), 1);
  const { lake } = lakeOf(io);
  const m = await lake.readManifest(source, date, version);
  if (!m) {
    io.stderr.write(`recomart lake show: ${source} ${date} has no committed version${version === undefined ? '' : ` ${version}`}\n`);
    return 1;
  }
  if (boolFlag(f, 'json')) printJson(io, m);
  else printManifest(io, m, await lake.listVersions(source, date), lake.versionLocation(source, date, m.version));
  return 0;
}

async function current(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake current', argv, { source: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } });
  const source = checkSourceName(required(stringFlag(f, 'source'), '--source', 'current'), '--source');
  const from = optionalDate(stringFlag(f, 'from'), '--from');
  const to = optionalDate(stringFlag(f, 'to'), '--to');
  if (from !== undefined && to !== undefined && from > to) throw new InvalidInputError(`--from ${from} is after --to ${to}`);
  const { lake } = lakeOf(io);
  const partitions = await currentVersions(lake, source, { from, to });
  if (boolFlag(f, 'json')) {
    printJson(io, { source, partitions });
    return 0;
  }
  if (partitions.length === 0) {
    io.stdout.write(`no committed partitions of ${source}${from || to ? ` from ${from ?? 'the start'} to ${to ?? 'the end'}` : ''}\n`);
    return 0;
  }
  for (const p of partitions) {
    io.stdout.write(`${p.date}  v${p.version}  records ${p.records}  rejected ${p.rejected}  ${p.manifest}\n`);
    for (const file of p.files) io.stdout.write(`  ${file.uri}\n`);
  }
  return 0;
}

function problemLine(p: VerifyProblem): string {
  return `${p.kind.padEnd(12)}  ${p.path}  ${p.detail}`;
}

async function verify(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake verify', argv, { source: { type: 'string' }, date: { type: 'string' }, deep: { type: 'boolean' }, json: { type: 'boolean' } });
  const source = optionalSource(stringFlag(f, 'source'));
  const date = optionalDate(stringFlag(f, 'date'), '--date');
  const { lake, config } = lakeOf(io);
  const hashed = await lake.verify({ source, date });
  const report = boolFlag(f, 'deep') ? await deepVerify(lake, config, hashed, { source, date }) : hashed;
  if (boolFlag(f, 'json')) {
    printJson(io, report);
  } else {
    for (const p of report.problems) io.stdout.write(`${problemLine(p)}\n`);
    const what = `${report.versionsChecked} version${report.versionsChecked === 1 ? '' : 's'}, ${report.filesChecked} file${report.filesChecked === 1 ? '' : 's'}`;
    const n = report.problems.length;
    io.stdout.write(report.ok ? `verified ${what}: ok\n` : `verified ${what}: ${n} problem${n === 1 ? '' : 's'}\n`);
  }
  return report.ok ? 0 : 1;
}

async function sweep(argv: readonly string[], io: CommandIo): Promise<number> {
  const f = parseFlags('lake sweep', argv, { 'max-age-ms': { type: 'string' }, json: { type: 'boolean' } });
  const given = intFlag('max-age-ms', stringFlag(f, 'max-age-ms'), 0);
  const { lake, stagingMaxAgeMs } = lakeOf(io);
  const maxAgeMs = given ?? stagingMaxAgeMs;
  const report = await lake.sweep(maxAgeMs);
  if (boolFlag(f, 'json')) {
    printJson(io, { maxAgeMs, ...report });
    return 0;
  }
  for (const dir of report.removed) io.stdout.write(`removed  ${dir}\n`);
  io.stdout.write(`swept staging leftovers older than ${maxAgeMs} ms: removed ${report.removed.length}, kept ${report.kept}\n`);
  return 0;
}

const RUN: Record<Subcommand, (argv: readonly string[], io: CommandIo) => Promise<number>> = { ls, show, current, verify, sweep, watch };

function isSubcommand(value: string): value is Subcommand {
  return (SUBCOMMANDS as readonly string[]).includes(value);
}

/** `recomart lake ls | show | current | verify | sweep | watch`: read, check and tidy the raw lake. */
export const lakeCommand: Command = {
  name: 'lake',
  summary: 'ls | show | current | verify | sweep | watch the raw lake',
  help: HELP,
  run: async (argv, io) => {
    const [sub, ...rest] = argv;
    if (sub === undefined) throw new UsageError('lake: a subcommand is required: ls, show, current, verify, sweep or watch');
    if (sub === '--help' || sub === '-h' || sub === 'help') {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (!isSubcommand(sub)) throw new UsageError(`lake: unknown subcommand ${echoInput(sub)} (use ls, show, current, verify, sweep or watch)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(`${SUB_HELP[sub]}\n`);
      return 0;
    }
    return RUN[sub](rest, io);
  },
};
