import { boolFlag, intFlag, parseFlags, printJson, stringFlag, UsageError, type Command, type CommandIo } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { dateRange } from '@recomart/jobs';
import { generateClickstreamDay, type GeneratedDay } from '@recomart/sources';
import { echoInput } from '@recomart/logging';

/** Rows per day when `--rows-per-day` is not given. */
const DEFAULT_ROWS_PER_DAY = 100_000;
/** Seed when `--seed` is not given: runs are reproducible by default. */
const DEFAULT_SEED = 'recomart';
/** How often (in rows) a non-terminal stderr gets a progress line. */
const PLAIN_PROGRESS_EVERY = 1_000_000;

const HELP = `Usage: recomart generate --from YYYY-MM-DD --to YYYY-MM-DD [--rows-per-day N] [--files-per-day K] [--gzip] [--seed S] [--dirty P] [--json]

Writes realistic clickstream exports into $LANDING_DIR/clickstream/<date>/
(events-000.csv, events-001.csv …): Zipf-distributed product popularity, users
with sessions and a usual device, a day/night rhythm, view → click →
add_to_cart funnels. Each file appears atomically (written under a hidden
temporary name, then renamed); the day's _SUCCESS marker is removed first and
written last, as a well-behaved exporter does. Same seed and options, same
bytes. Earlier generated files of a day that this run does not rewrite are
removed.

Options:
  --from, --to        the days, both included
  --rows-per-day N    rows per day over all its files (default ${DEFAULT_ROWS_PER_DAY})
  --files-per-day K   files per day, sessions dealt round-robin (default 1, at most 1000)
  --gzip              write .csv.gz
  --seed S            any text (default "${DEFAULT_SEED}"); each day mixes in its date
  --dirty P           share of rows from 0 to 1 given a realistic defect: a bad event type,
                      an empty id or device, a timestamp on the wrong day or unreadable,
                      a ragged row (default 0)
  --json              print what was written as JSON on stdout

Examples:
  recomart generate --from 2024-05-01 --to 2024-05-07
  recomart generate --from 2024-05-01 --to 2024-05-01 --rows-per-day 1000000 --files-per-day 4 --gzip --dirty 0.005`;

/** `--dirty` as a number from 0 to 1. */
function dirtyFlag(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > 1) throw new UsageError(`--dirty must be a number from 0 to 1, got ${echoInput(raw)}`);
  return Number(raw);
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Progress on stderr: one rewritten line on a terminal, a line per million rows otherwise. */
function progressReporter(io: CommandIo, day: string): { update(rows: number, total: number): void; end(): void } {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let nextPlain = PLAIN_PROGRESS_EVERY;
  let lastPercent = -1;
  let drawn = false;
  return {
    update(rows, total) {
      if (tty) {
        const percent = total === 0 ? 100 : Math.floor((rows / total) * 100);
        if (percent === lastPercent) return;
        lastPercent = percent;
        drawn = true;
        io.stderr.write(`\rgenerate ${day}: ${percent}% (${rows}/${total} rows)`);
      } else if (rows >= nextPlain) {
        nextPlain += PLAIN_PROGRESS_EVERY;
        io.stderr.write(`generate ${day}: ${rows}/${total} rows\n`);
      }
    },
    end() {
      if (drawn) io.stderr.write('\n');
    },
  };
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'write realistic clickstream files into the landing zone',
  help: HELP,
  run: async (argv, io) => {
    const f = parseFlags('generate', argv, {
      from: { type: 'string' },
      to: { type: 'string' },
      'rows-per-day': { type: 'string' },
      'files-per-day': { type: 'string' },
      gzip: { type: 'boolean' },
      seed: { type: 'string' },
      dirty: { type: 'string' },
      json: { type: 'boolean' },
    });
    const from = stringFlag(f, 'from');
    const to = stringFlag(f, 'to');
    if (from === undefined || to === undefined) throw new UsageError('generate needs --from and --to (YYYY-MM-DD)');
    const rows = intFlag('rows-per-day', stringFlag(f, 'rows-per-day'), 0, 100_000_000) ?? DEFAULT_ROWS_PER_DAY;
    const files = intFlag('files-per-day', stringFlag(f, 'files-per-day'), 1, 1000) ?? 1;
    const seed = stringFlag(f, 'seed') ?? DEFAULT_SEED;
    const dirty = dirtyFlag(stringFlag(f, 'dirty'));
    const gzip = boolFlag(f, 'gzip');
    const json = boolFlag(f, 'json');
    const config = loadConfig(io.env);
    const days = dateRange(from, to, config.schedule.backfillMaxDays);

    const written: GeneratedDay[] = [];
    for (const date of days) {
      if (io.signal.aborted) break;
      const progress = progressReporter(io, date);
      const day = await generateClickstreamDay({
        landingDir: config.landingDir,
        date,
        rows,
        files,
        gzip,
        seed,
        dirty,
        signal: io.signal,
        onProgress: (done, total) => progress.update(done, total),
      })
        .catch((err: unknown) => {
          if (io.signal.aborted) return undefined;
          throw err;
        })
        .finally(() => progress.end());
      if (day === undefined) break;
      written.push(day);
      if (!json) {
        const bytes = day.files.reduce((a, x) => a + x.bytes, 0);
        const removed = day.removed.length > 0 ? ` (replaced ${day.removed.join(', ')})` : '';
        io.stdout.write(`${date}: ${day.rows} rows in ${day.files.length} file${day.files.length === 1 ? '' : 's'}, ${megabytes(bytes)} → ${day.folder}${removed}\n`);
      }
    }
    if (io.signal.aborted) {
      io.stderr.write(`recomart generate: stopped after ${written.length} of ${days.length} days\n`);
      return 1;
    }
    if (json) printJson(io, { days: written });
    return 0;
  },
};
