import { boolFlag, parseFlags, printJson, stringFlag, UsageError, type Command, type CommandIo, untilAborted } from '@recomart/command';
import { dateInZone, dateRange, isSourceName, parseLogicalDate, SOURCES, type SourceName } from '@recomart/jobs';
import { catchUp } from './catch-up.js';
import { enqueuePartitions, type EnqueueSummary, type PartitionRequest } from './enqueue-partitions.js';
import { createProgressBar } from './progress-bar.js';
import { openProducer, type ProducerContext } from './producer-context.js';
import { startTickWorker } from './scheduler-runtime.js';
import { upsertSchedulers } from './scheduler-setup.js';
import { readStatus } from './status.js';
import { waitForJobs } from './wait-for-jobs.js';
import { logicalDateForTick } from '@recomart/jobs';

function sourceFlag(raw: string | undefined, allowAll: boolean): SourceName[] {
  if (raw === undefined) throw new UsageError(`--source is required (${SOURCES.join(', ')}${allowAll ? ', all' : ''})`);
  if (allowAll && raw === 'all') return [...SOURCES];
  if (!isSourceName(raw)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}${allowAll ? ', all' : ''}, got ${JSON.stringify(raw)}`);
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

/** Refuses a date after today (in SCHEDULE_TZ): no data exists for a day that has not begun. */
function notInFuture(flag: string, date: string, timeZone: string, now = Date.now()): void {
  const today = dateInZone(now, timeZone);
  if (date > today) throw new UsageError(`--${flag} ${date} is in the future (today is ${today} in ${timeZone})`);
}

async function withProducer(io: CommandIo, fn: (ctx: ProducerContext) => Promise<number>): Promise<number> {
  const ctx = await openProducer(io.env);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

function printSummary(io: CommandIo, summary: EnqueueSummary, dryRun: boolean): void {
  const verb = dryRun ? 'would enqueue' : 'enqueued';
  io.stderr.write(
    `${verb} ${summary.added.length - summary.requeued.length} new${summary.requeued.length > 0 ? ` · ${summary.requeued.length} again (finished earlier, not in the lake)` : ''} · ${summary.alreadyQueued.length} already queued · ${summary.inLake.length} already in the lake (skipped${dryRun ? '' : '; --reprocess to ingest again'}) · ${summary.requested} requested\n`,
  );
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
    return withProducer(io, async (ctx) => {
      notInFuture('date', date, ctx.config.schedule.tz);
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
    return withProducer(io, async (ctx) => {
      notInFuture('to', to, ctx.config.schedule.tz);
      let dates: string[];
      try {
        dates = dateRange(from, to, ctx.config.schedule.backfillMaxDays);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
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
  help: `Usage: recomart schedule [--catch-up] [--serve] [--json]

Creates or updates one BullMQ job scheduler per source (cron from
SCHEDULE_CRON_<SOURCE> in SCHEDULE_TZ). Safe to run from many processes at once.

Options:
  --catch-up   also enqueue every partition of the last CATCH_UP_DAYS days that has no committed version
  --serve      keep running as the scheduler process: turn each tick into the ingest job
               for the tick's logical date, then catch up (what "recomart start" and compose run)
  --json       machine-readable output on stdout`,
  async run(argv, io) {
    const f = parseFlags('schedule', argv, { 'catch-up': { type: 'boolean' }, serve: { type: 'boolean' }, json: { type: 'boolean' } });
    return withProducer(io, async (ctx) => {
      const schedulers = await upsertSchedulers(ctx.tickQueue, ctx.connection, ctx.config);
      let caughtUp: EnqueueSummary | undefined;
      if (boolFlag(f, 'catch-up')) {
        const now = Date.now();
        const latest = Object.fromEntries(SOURCES.map((s) => [s, logicalDateForTick(s, now, ctx.config.schedule.tz)]));
        caughtUp = await catchUp(ctx.queues, ctx.lake, SOURCES, latest, ctx.config.schedule.catchUpDays);
      }
      if (boolFlag(f, 'json')) printJson(io, { schedulers, caughtUp });
      else {
        for (const s of schedulers) {
          io.stdout.write(`${s.id}: "${s.pattern}" ${s.tz} · next ${s.next ? new Date(s.next).toISOString() : '-'}${s.changed ? ' (updated)' : ''}\n`);
        }
        if (caughtUp) printSummary(io, caughtUp, false);
      }
      if (!boolFlag(f, 'serve')) return 0;
      const ticks = startTickWorker(ctx);
      ctx.logger.info({ event: 'scheduler-ready', schedulers: schedulers.map((s) => s.id) }, 'scheduler running');
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

Per queue: waiting, active, delayed, failed, completed (and paused). The job
schedulers with their next run. The newest committed partition per source.`,
  async run(argv, io) {
    const f = parseFlags('status', argv, { json: { type: 'boolean' } });
    return withProducer(io, async (ctx) => {
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
      for (const s of status.schedulers) io.stdout.write(`scheduler ${s.id}: "${s.pattern}" ${s.tz} · next ${s.next ?? '-'}\n`);
      if (status.schedulers.length === 0) io.stdout.write('no schedulers (run "recomart schedule")\n');
      for (const p of status.partitions) io.stdout.write(`lake ${p.source}: newest ${p.newestDate ?? '-'} (version ${p.newestVersion ?? '-'}), ${p.partitions} partition(s)\n`);
      return 0;
    });
  },
};
