import { parseFlags, type Command } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { createLogger } from '@recomart/logging';
import { startAuditSink } from './audit-sink.js';

const HELP = `Usage: recomart audit-sink

The central audit log sink. Reads the workers' audit event stream
(<QUEUE_PREFIX>:audit:events) and every ingest queue's BullMQ lifecycle stream,
and appends each event as one JSON line to $DATA_DIR/logs/audit/yyyy/mm/dd.ndjson
(by the event's UTC day), fsynced at least every AUDIT_FSYNC_EVERY_MS. The last
stream ids persisted are kept in $DATA_DIR/logs/audit/_checkpoint.json, so a
stopped or killed sink resumes where it left off: nothing is lost, and an event
written twice carries the same eventId (readers drop duplicates).
Run one sink per DATA_DIR. Stops cleanly on SIGTERM or SIGINT.

Environment: REDIS_URL, QUEUE_PREFIX, DATA_DIR, AUDIT_FSYNC_EVERY_MS, LOG_LEVEL.
`;

export const auditSinkCommand: Command = {
  name: 'audit-sink',
  summary: 'the central audit log sink process',
  help: HELP,
  async run(argv, io) {
    parseFlags('audit-sink', argv, {});
    const config = loadConfig(io.env);
    const logger = createLogger({ app: 'audit-sink', level: config.log.level, format: config.log.format, color: config.log.color, secrets: config.secrets });
    const sink = await startAuditSink({ config, logger });
    const stop = () => {
      sink.close().catch(() => undefined);
    };
    io.signal.addEventListener('abort', stop, { once: true });
    if (io.signal.aborted) stop();
    try {
      await sink.stopped;
      return 0;
    } catch (err) {
      io.stderr.write(`recomart audit-sink: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    } finally {
      io.signal.removeEventListener('abort', stop);
    }
  },
};
