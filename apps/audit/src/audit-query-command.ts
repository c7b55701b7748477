import { boolFlag, parseFlags, printJson, stringFlag, UsageError, type Command } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { isSourceName, parseLogicalDate, SOURCES } from '@recomart/jobs';
import { auditLogDir } from './audit-log-paths.js';
import { readAuditLog, type AuditQuery } from './audit-log-reader.js';
import { formatTimeline } from './audit-timeline.js';
import { echoInput } from '@recomart/logging';

const HELP = `Usage: recomart audit [--source S] [--date D] [--job ID] [--since T] [--json]

Queries the central audit log ($DATA_DIR/logs/audit/yyyy/mm/dd.ndjson): every
attempt of every job, when, on which worker, what it did (the version it
committed) and why it failed, plus operators' actions on the board. Each event
appears once (duplicates left by a restarted sink are dropped), oldest first.

Options:
  --source S   only this source (${SOURCES.join(', ')})
  --date D     only jobs for this logical date (the partition day), YYYY-MM-DD
  --job ID     only this job id, e.g. clickstream__2026-11-20
  --since T    only events at or after T: YYYY-MM-DD (midnight UTC) or an ISO-8601 time
  --json       print the events as a JSON array on stdout

Example: recomart audit --source clickstream --date 2026-11-20
`;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `--since` as epoch ms: a calendar date (midnight UTC) or an ISO-8601 time with its offset. */
export function parseSince(raw: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return Date.parse(`${parseLogicalDate(raw, '--since')}T00:00:00Z`);
  const ms = Date.parse(raw);
  if (!ISO_TIME.test(raw) || Number.isNaN(ms)) {
    throw new UsageError(`--since must be YYYY-MM-DD or an ISO-8601 time such as 2026-11-20T06:00:00Z, got ${echoInput(raw)}`);
  }
  return ms;
}

export const auditQueryCommand: Command = {
  name: 'audit',
  summary: 'query the central audit log',
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags('audit', argv, {
      source: { type: 'string' },
      date: { type: 'string' },
      job: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean' },
    });
    const query: AuditQuery = {};
    const source = stringFlag(flags, 'source');
    if (source !== undefined) {
      if (!isSourceName(source)) throw new UsageError(`--source must be one of ${SOURCES.join(', ')}, got ${echoInput(source)}`);
      query.source = source;
    }
    const date = stringFlag(flags, 'date');
    if (date !== undefined) query.date = parseLogicalDate(date, '--date');
    const job = stringFlag(flags, 'job');
    if (job !== undefined) query.jobId = job;
    const since = stringFlag(flags, 'since');
    if (since !== undefined) query.sinceMs = parseSince(since);

    const config = loadConfig(io.env);
    const logDir = auditLogDir(config.dataDir);
    const result = await readAuditLog(logDir, query);
    if (result.unreadableLines > 0) {
      io.stderr.write(`recomart audit: skipped ${result.unreadableLines} unreadable line(s) (torn by a crash; their events were written again)\n`);
    }
    if (boolFlag(flags, 'json')) {
      printJson(io, result.events);
      return 0;
    }
    if (result.events.length === 0) {
      io.stdout.write(`no audit events match (read ${result.filesRead} day file(s) in ${logDir})\n`);
      return 0;
    }
    io.stdout.write(formatTimeline(result.events));
    return 0;
  },
};
