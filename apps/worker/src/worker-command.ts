import { boolFlag, intFlag, parseFlags, stringFlag, UsageError, type Command, untilAborted } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { isSourceName, SOURCES, type SourceName } from '@recomart/jobs';
import { createLogger } from '@recomart/logging';
import { startWorker } from './worker-runtime.js';
import { echoInput } from '@recomart/logging';

const HELP = `Usage: recomart worker [--concurrency N] [--sources a,b] [--http-port P]

A worker process: consumes the ingest queues (one BullMQ Worker per source),
writes to the lake, emits audit events. Run as many as you like, on any host.

Options:
  --concurrency N   jobs at once per source queue (default WORKER_CONCURRENCY, 2)
  --sources a,b     sources to consume (default: all of ${SOURCES.join(', ')})
  --http-port P     health (/healthz) and metrics (/metrics) port (default WORKER_HTTP_PORT, 9464; 0 = any free port)
  --no-http         no health/metrics server

SIGTERM/SIGINT: stop taking jobs, let active ones finish for SHUTDOWN_GRACE_MS, then exit.`;

/** Parses `--sources a,b` into known source names. */
export function parseSourcesFlag(raw: string | undefined): SourceName[] {
  if (raw === undefined || raw === 'all') return [...SOURCES];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError(`--sources must list sources (${SOURCES.join(', ')}), got ${echoInput(raw)}`);
  for (const n of names) {
    if (!isSourceName(n)) throw new UsageError(`--sources: unknown source ${echoInput(n)} (known: ${SOURCES.join(', ')})`);
  }
  return [...new Set(names)] as SourceName[];
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'a worker process consuming the ingest queues',
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags('worker', argv, {
      concurrency: { type: 'string' },
      sources: { type: 'string' },
      'http-port': { type: 'string' },
      'no-http': { type: 'boolean' },
    });
    const concurrency = intFlag('concurrency', stringFlag(flags, 'concurrency'), 1, 256);
    const sources = parseSourcesFlag(stringFlag(flags, 'sources'));
    const httpPort = boolFlag(flags, 'no-http') ? null : intFlag('http-port', stringFlag(flags, 'http-port'), 0, 65535);
    const config = loadConfig(io.env);
    const logger = createLogger({ app: 'worker', level: config.log.level, format: config.log.format, color: config.log.color, secrets: config.secrets });
    const running = await startWorker({
      config,
      logger,
      sources,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(httpPort !== undefined ? { httpPort } : {}),
    });
    await untilAborted(io.signal);
    await running.close();
    logger.flush();
    return 0;
  },
};
