import { RejectRatioExceededError, SchemaMismatchError, TransientError, parseLogicalDate } from '@recomart/jobs';
import type { WriteSession } from '@recomart/lake';
import type { Source, SourceContext, SourceResult } from '../source.js';
import { CONTRACT_HEADER, EVENT_TYPES } from './contract.js';
import { countMismatch, dayCountsProblem } from './count-invariant.js';
import { listBucketLandingFiles } from './bucket-landing.js';
import { DayWindow } from './day-window.js';
import { openDownload } from './download.js';
import { ingestFile, type ClickstreamFile, type FileReport } from './file-ingest.js';
import { landingFolder, listLandingFiles } from './landing-files.js';
import { MARKER_NAME } from './landing-rules.js';
import { RejectedRows } from './rejected-rows.js';
import { RowValidator } from './row-validator.js';

/** Where the day's files come from, as found before the write session starts. */
interface Arrival {
  files: ClickstreamFile[];
  origin: string;
  provenance: Record<string, unknown>;
}

async function arrival(ctx: SourceContext, date: string): Promise<Arrival> {
  const { urlTemplate, timeoutMs, downloadDeadlineMs, minBytesPerSecond, minRateGraceMs } = ctx.config.clickstream;
  if (urlTemplate !== undefined) {
    const limits = { idleMs: timeoutMs, deadlineMs: downloadDeadlineMs, minBytesPerSecond, graceMs: minRateGraceMs };
    const { file, provenance } = await openDownload(urlTemplate, date, limits, ctx.config.secrets, ctx.signal);
    return { files: [file], origin: file.origin, provenance: { download: provenance } };
  }
  const { requireMarker, settleMs, landingUrl } = ctx.config.clickstream;
  if (landingUrl !== undefined) {
    const { files, listing, folder, complete } = await listBucketLandingFiles(landingUrl, ctx.config.lake.s3, date, { requireMarker, settleMs }, ctx.signal);
    return { files, origin: folder, provenance: { landing: { folder, files: listing, marker: complete ? MARKER_NAME : null } } };
  }
  const { files, listing, complete } = await listLandingFiles(ctx.config.landingDir, date, { requireMarker, settleMs }, ctx.signal);
  const folder = landingFolder(ctx.config.landingDir, date);
  return { files, origin: folder, provenance: { landing: { folder, files: listing, marker: complete ? MARKER_NAME : null } } };
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
}

/**
 * The clickstream source: the day's export files (landing folder, or one
 * download) into one new lake version, each file copied byte for byte while
 * it is parsed and validated in the same pass.
 *
 * - No files yet: NotArrivedError (retried; files arrive late).
 * - A file breaks the contract: the staged bytes go to quarantine with the
 *   reason, then SchemaMismatchError (not retried).
 * - Too many rejected rows: the version is committed (raw data kept), then
 *   RejectRatioExceededError (not retried) with the ratio and the version.
 */
export const clickstreamSource: Source = async (ctx: SourceContext): Promise<SourceResult> => {
  const date = parseLogicalDate(ctx.date, 'date');
  const cfg = ctx.config.clickstream;
  const found = await arrival(ctx, date);
  const window = new DayWindow(date, cfg.timestampToleranceMs, ctx.config.schedule.partitionTz);
  const validator = new RowValidator(window);
  let bytes = 0;
  const session: WriteSession = await ctx.lake.begin({ source: ctx.source, date, runId: ctx.runId, jobId: ctx.jobId, attempt: ctx.attempt });
  const rejects = new RejectedRows(session, found.origin);
  const reports: FileReport[] = [];
  ctx.logger.info({ date, files: found.files.map((f) => f.display) }, 'clickstream ingest started');
  let current: ClickstreamFile | undefined;
  try {
    for (const file of found.files) {
      current = file;
      if (ctx.signal.aborted) throw new TransientError(`clickstream ${date}: stopped before ${file.display}, the job was told to stop`);
      const { report } = await ingestFile(file, {
        session,
        validator,
        rejects,
        maxRowBytes: cfg.maxRowBytes,
        onBytes: (n) => (bytes += n),
        onProgress: (rows, rejected) => ctx.progress({ bytes, rows, rejected }),
      });
      reports.push(report);
      const { rows, rejected } = validator.counts;
      ctx.progress({ bytes, rows, rejected });
    }
  } catch (err) {
    if (err instanceof SchemaMismatchError) {
      await rejects.close().catch(() => undefined);
      const { path } = await session.quarantine(err.message, { file: current?.name ?? null, before: reports.map((r) => r.file) });
      ctx.logger.error({ date, quarantine: path, reason: err.message }, 'clickstream file breaks the contract; kept in quarantine');
      throw err;
    }
    await session.abort();
    if (ctx.signal.aborted && !(err instanceof TransientError)) {
      throw new TransientError(`clickstream ${date}: stopped, the job was told to stop`, { cause: err });
    }
    throw err;
  }
  await rejects.close();
  const summary = validator.summary();
  const countsProblem = dayCountsProblem({ ...summary, files: reports, rejectedLines: rejects.lines });
  if (countsProblem !== undefined) {
    await session.abort();
    throw countMismatch(`clickstream ${date}`, countsProblem);
  }
  const validation = {
    contract: { columns: CONTRACT_HEADER, eventTypes: EVENT_TYPES.join(','), timestamps: 'ISO-8601 with a zone, or epoch milliseconds', day: date, dayTimeZone: window.timeZone, dayStart: new Date(window.start).toISOString(), dayEnd: new Date(window.end).toISOString(), toleranceMs: cfg.timestampToleranceMs },
    maxRejectRatio: cfg.maxRejectRatio,
    ...summary,
    files: reports,
  };
  const result = await session.commit({ records: summary.accepted, rejected: summary.rejected, validation, provenance: found.provenance });
  ctx.logger.info(
    { date, status: result.status, version: result.version, rows: summary.rows, rejected: summary.rejected, bytes },
    `clickstream ${date} ${result.status} as version ${result.version}`,
  );
  if (summary.rejectRatio > cfg.maxRejectRatio) {
    throw new RejectRatioExceededError(
      `clickstream ${date}: ${percent(summary.rejectRatio)} of rows rejected (${summary.rejected} of ${summary.rows}), above CLICKSTREAM_MAX_REJECT_RATIO ${cfg.maxRejectRatio}; version ${result.version} was ${result.status === 'committed' ? 'committed' : 'already committed'} with the rejected rows in ${RejectedRows.fileName}`,
    );
  }
  return { status: result.status, version: result.version, records: summary.accepted, rejected: summary.rejected, files: reports.length, bytes };
};
