import { boolFlag, parseFlags, printJson, stringFlag, UsageError, type Command, type CommandIo, untilAborted } from '@recomart/command';
import { loadConfig, type Config } from '@recomart/config';
import { dateRange, isSourceName, parseLogicalDate, partitionDateOf, SOURCES, type SourceName } from '@recomart/jobs';
import { catchUp } from './catch-up.js';
import { enqueuePartitions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';
import { reportFailedForGood } from './failed-partitions.js';
import { createProgressBar } from './progress-bar.js';
import { openProducer, type ProducerContext } from './producer-context.js';
import { printScheduleStatus } from './schedule-status.js';
import { startTickWorker } from './scheduler-runtime.js';
import { repairSchedulers } from './scheduler-watch.js';
import { checkSchedules, upsertSchedulers } from './scheduler-setup.js';
import { freshnessLines } from './freshness-status.js';
import { readStatus } from './status.js';
import { waitForJobs } from './wait-for-jobs.js';
import { echoInput } from '@recomart/logging';

function sourceFlag(raw: string | undefined, allowAll: boolean): SourceName[] {
  if (raw === undefined) throw new UsageError(`--source is required (${SOURCES.join(', ')}${allowAll ? ', all' : ''})`);
  if (allowAll && raw === 'all') return [...SOURCES];
  if (!isSourceName(raw)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}${allowAll ? ', all' : ''}, got ${echoInput(raw)}`);
  return [raw];
}

function dateFlag(flag: string, raw: string | undefined): string {
  if (raw === undefined) throw new UsageError(`--${flag} is required (YYYY-MM-DD)`);
  try {
    return parseLogicalDate(raw, `--${flag}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Refuses a date after today (a calendar day in PARTITION_TZ): no data exists for a day that has not begun. */
function notInFuture(flag: string, date: string, timeZone: string, now = Date.now()): void {
  const today = partitionDateOf(now, timeZone);
  if (date > today) throw new UsageError(`--${flag} ${date} is in the future (today is ${today} in ${timeZone}, PARTITION_TZ)`);
}

/** Opens the producer with an already loaded config: commands check their arguments against it before connecting to Redis. */
async function withProducer(io: CommandIo, config: Config, fn: (ctx: ProducerContext) => Promise<number>, options: { writes?: boolean } = {}): Promise<number> {
  const ctx = await openProducer(io.env, 'producer', config, options);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function printSummary(io: CommandIo, summary: EnqueueSummary, dryRun: boolean): void {
  const verb = dryRun ? 'would enqueue' : 'enqueued';
  io.stderr.write(
    `${verb} ${summary.added.length - summary.requeued.length} new${summary.requeued.length > 0 ? ` · ${summary.requeued.length} again (completed earlier, not in the lake)` : ''} · ${summary.alreadyQueued.length} already queued · ${summary.inLake.length} already in the lake (skipped${dryRun ? '' : '; --reprocess to ingest again'}) · ${summary.requested} requested\n`,
  );
  for (const f of summary.failedForGood) io.stderr.write(`left ${f.jobId}: it failed for good (${f.reason}); retry it on the board, or enqueue --reprocess\n`);
}

async function waitAndReport(io: CommandIo, ctx: ProducerContext, summary: EnqueueSummary, json: boolean): Promise<number> {
  const ids = [...summary.added, ...summary.alreadyQueued];
  const bar = createProgressBar(io.stderr as NodeJS.WritableStream & { isTTY?: boolean });
  const outcome = await waitForJobs(ctx.queues, ids, {
    signal: io.signal,
    onProgress: (p) => bar.update(p),
    onRetry: (r) => io.stderr.write(`\nretrying ${r.id} after attempt ${r.attemptsMade}: ${r.reason}\n`),
    onRateLimited: (r) => io.stderr.write(`\n${r.id}: rate limited, resuming${r.resumeAtPage === null ? '' : ` at page ${r.resumeAtPage}`} in ${Math.ceil(r.inMs / 1000)} s\n`),
  });
  if (json) printJson(io, { ...summary, outcome });
  for (const f of outcome.failed) io.stderr.write(`failed ${f.id}: ${f.reason}\n`);
  if (outcome.remaining.length > 0) io.stderr.write(`stopped waiting with ${outcome.remaining.length} job(s) still pending\n`);
  return outcome.failed.length === 0 && outcome.remaining.length === 0 ? 0 : 1;
}

export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'enqueue one (source, date) ingest job',
  help: `Usage: recomart enqueue --source S --date D [--reprocess] [--wait] [--json]

Enqueues one ingest job for a partition. Job id <source>__<date>: enqueuing a
partition that is already waiting or active does nothing. A partition already
in the lake is skipped unless --reprocess (which uses a distinct job id).

Options:
  --source S     ${SOURCES.join(' | ')}
  --date D       the logical date (YYYY-MM-DD): the day the data covers
  --reprocess    ingest again even if the lake has it (commits "unchanged" if identical)
  --wait         wait for the job to finish; exit 0 only if it completed
  --json         machine-readable summary on stdout`,
  async run(argv, io) {
    const f = parseFlags('enqueue', argv, { source: { type: 'string' }, date: { type: 'string' }, reprocess: { type: 'boolean' }, wait: { type: 'boolean' }, json: { type: 'boolean' } });
    const [source] = sourceFlag(stringFlag(f, 'source'), false) as [SourceName];
    const date = dateFlag('date', stringFlag(f, 'date'));
    const config = loadConfig(io.env);
    notInFuture('date', date, config.schedule.partitionTz);
    return withProducer(io, config, async (ctx) => {
      const summary = await enqueuePartitions(ctx.queues, ctx.lake, [{ source, date }], { trigger: 'manual', requestedBy: 'cli', reprocess: boolFlag(f, 'reprocess') });
      if (boolFlag(f, 'json') && !boolFlag(f, 'wait')) printJson(io, summary);
      printSummary(io, summary, false);
      if (!boolFlag(f, 'wait')) return 0;
      return waitAndReport(io, ctx, summary, boolFlag(f, 'json'));
    });
  },
};

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'enqueue a date range, with a progress bar',
  help: `Usage: recomart backfill --source S|all --from D --to D [--reprocess] [--dry-run] [--wait] [--json]

Enqueues one job per (source, date) in the range (both ends included, at most
BACKFILL_MAX_DAYS days), in addBulk chunks. Says how many were new, already
queued, or already in the lake (skipped unless --reprocess).

Options:
  --source S     ${SOURCES.join(' | ')} | all
  --from D       first logical date (YYYY-MM-DD)
  --to D         last logical date (YYYY-MM-DD), not before --from
  --reprocess    ingest again partitions the lake already has
  --dry-run      print what would be enqueued; enqueue nothing
  --wait         show a progress bar until all finish; exit 0 only if all completed
  --json         machine-readable summary on stdout`,
  async run(argv, io) {
    const f = parseFlags('backfill', argv, {
      source: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      reprocess: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const sources = sourceFlag(stringFlag(f, 'source'), true);
    const from = dateFlag('from', stringFlag(f, 'from'));
    const to = dateFlag('to', stringFlag(f, 'to'));
    // Every argument is checked before connecting: bad usage exits 2 even with Redis down.
    const config = loadConfig(io.env);
    notInFuture('to', to, config.schedule.partitionTz);
    let dates: string[];
    try {
      dates = dateRange(from, to, config.schedule.backfillMaxDays);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return withProducer(io, config, async (ctx) => {
      const partitions: PartitionRequest[] = sources.flatMap((source) => dates.map((date) => ({ source, date })));
      const dryRun = boolFlag(f, 'dry-run');
      const summary = await enqueuePartitions(ctx.queues, ctx.lake, partitions, { trigger: 'backfill', requestedBy: 'cli', reprocess: boolFlag(f, 'reprocess'), dryRun });
      printSummary(io, summary, dryRun);
      if (boolFlag(f, 'json') && (!boolFlag(f, 'wait') || dryRun)) printJson(io, summary);
      if (!boolFlag(f, 'wait') || dryRun) return 0;
      return waitAndReport(io, ctx, summary, boolFlag(f, 'json'));
    });
  },
};

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'create or update the daily job schedulers (idempotent); --catch-up enqueues missing days',
  help: `Usage: recomart schedule [--catch-up] [--serve] [--replace] [--json]

Creates or updates one BullMQ job scheduler per source (cron from
SCHEDULE_CRON_<SOURCE> in SCHEDULE_TZ) and stores the schedule settings (crons,
SCHEDULE_TZ, PARTITION_TZ, CATCH_UP_DAYS) next to them. Safe to run from many
processes at once. Repairs a scheduler whose next time is in the past with no
tick pending. Refused (exit 2) when a cron does not fire every day in its zone,
or when the settings differ from the stored ones (unless --replace).

Options:
  --catch-up   also enqueue every partition of the last CATCH_UP_DAYS days (back from
               today in PARTITION_TZ) that has no committed version
  --serve      keep running as the scheduler process: turn each tick into the ingest jobs
               for the tick's logical date, catch up at start-up, at every tick and every
               SCHEDULE_WATCH_INTERVAL_MS, and repair a scheduler stuck in the past
               (implies --catch-up; what "recomart start" and compose run)
  --replace    replace stored schedule settings that differ from this environment's
  --json       machine-readable output on stdout`,
  async run(argv, io) {
    const f = parseFlags('schedule', argv, { 'catch-up': { type: 'boolean' }, serve: { type: 'boolean' }, replace: { type: 'boolean' }, json: { type: 'boolean' } });
    const config = loadConfig(io.env);
    checkSchedules(config);
    const serve = boolFlag(f, 'serve');
    return withProducer(io, config, async (ctx) => {
      const outcome = await upsertSchedulers(ctx.tickQueue, ctx.connection, ctx.config, { replace: boolFlag(f, 'replace'), logger: ctx.logger });
      // An unchanged scheduler left with a next time in the past (no tick pending) is repaired too.
      const repaired = await repairSchedulers(ctx.tickQueue, Date.now(), ctx.logger);
      let caughtUp: EnqueueSummary | undefined;
      if (boolFlag(f, 'catch-up') || serve) {
        caughtUp = await catchUp(ctx.queues, ctx.lake, SOURCES, Date.now(), outcome.settings.partitionTz, outcome.settings.catchUpDays);
        await reportFailedForGood(caughtUp.failedForGood, ctx.audit, ctx.logger);
      }
      if (boolFlag(f, 'json')) printJson(io, { ...outcome, repaired, caughtUp });
      else {
        if (outcome.replaced.length > 0) io.stdout.write(`replaced the stored schedule settings: ${outcome.replaced.join('; ')}\n`);
        for (const s of outcome.schedulers) {
          io.stdout.write(`${s.id}: "${s.pattern}" ${s.tz} · next ${s.next ? new Date(s.next).toISOString() : '-'}${s.changed ? ' (updated)' : ''}\n`);
        }
        for (const id of outcome.overdueKept) io.stdout.write(`kept overdue tick ${id}\n`);
        for (const id of repaired) io.stdout.write(`repaired ${id}: its next time was in the past\n`);
        if (caughtUp) printSummary(io, caughtUp, false);
      }
      if (!serve) return 0;
      const ticks = startTickWorker(ctx);
      ctx.logger.info({ event: 'scheduler-ready', schedulers: outcome.schedulers.map((s) => s.id) }, 'scheduler running');
      await untilAborted(io.signal);
      await ticks.close();
      return 0;
    });
  },
};

export const statusCommand: Command = {
  name: 'status',
  summary: 'queue counts, schedulers, newest partition per source',
  help: `Usage: recomart status [--json]

Per queue: waiting, active, delayed, failed, completed (and paused). The stored
schedule settings; each job scheduler with its next fire time, flagged when it
is in the past; partitions whose job failed for good (left for an operator).
The newest committed partition per source.
Freshness per source: the newest committed date and how long ago it was
committed, and the dates missing among the last CATCH_UP_DAYS logical dates
(up to yesterday for clickstream, today for products).`,
  async run(argv, io) {
    const f = parseFlags('status', argv, { json: { type: 'boolean' } });
    return withProducer(io, loadConfig(io.env), async (ctx) => {
      const status = await readStatus(ctx);
      if (boolFlag(f, 'json')) {
        printJson(io, status);
        return 0;
      }
      for (const q of status.queues) {
        const c = q.counts;
        io.stdout.write(
          `${q.queue.padEnd(20)} waiting ${c.waiting ?? 0} · active ${c.active ?? 0} · delayed ${c.delayed ?? 0} · failed ${c.failed ?? 0} · completed ${c.completed ?? 0}${q.paused ? ' · PAUSED' : ''}\n`,
        );
      }
      printScheduleStatus(io, status.schedule);
      for (const p of status.partitions) io.stdout.write(`lake ${p.source}: newest ${p.newestDate ?? '-'} (version ${p.newestVersion ?? '-'}), ${p.partitions} partition(s)\n`);
      for (const l of freshnessLines(status.freshness)) io.stdout.write(`${l}\n`);
      return 0;
    }, { writes: false });
  },
};
