import type { Config } from '@recomart/config';
import { queueName, SOURCES, type SourceName } from '@recomart/jobs';
import type { AuditEvent, Logger } from '@recomart/logging';
import { auditStreamKey, connectGuarded, createProducerConnection, createWorkerConnection, redisTarget } from '@recomart/queue';
import type { Redis } from 'ioredis';
import { auditLogDir, checkpointPath, dayFileOf } from './audit-log-paths.js';
import { DayFileAppender } from './day-file-appender.js';
import { lifecycleEventFromEntry } from './lifecycle-event.js';
import { loadCheckpoint, saveCheckpoint } from './sink-checkpoint.js';
import { fieldsOf, type StreamEntry } from './stream-entry.js';
import { compareStreamIds, STREAM_START, streamIdTime } from './stream-id.js';
import { workerEventFromEntry } from './worker-event.js';

export interface AuditSinkOptions {
  config: Config;
  logger: Logger;
  /** Sources whose queue lifecycle streams are read. @defaultValue every source */
  sources?: readonly SourceName[];
  /** Entries asked for per XREAD. @defaultValue 1000 */
  batchSize?: number;
  /** Events held in memory before a flush is forced, even inside `fsyncEveryMs`. @defaultValue 10000 */
  maxPendingEvents?: number;
}

/** A running sink. */
export interface AuditSink {
  /** The audit log folder (`$DATA_DIR/logs/audit`). */
  readonly logDir: string;
  /** The stream keys read, in order. */
  readonly streams: readonly string[];
  /**
   * Resolves once every entry that was in the streams when it was called is
   * fsynced in the day files and covered by the checkpoint.
   */
  drained(): Promise<void>;
  /** Stops reading, flushes what was read, checkpoints it and closes the connections. */
  close(): Promise<void>;
  /** Settles when the sink has stopped: resolves after `close()`, rejects on a fatal error. */
  readonly stopped: Promise<void>;
}

/** How long an idle XREAD blocks; `close()` interrupts it at once. */
const IDLE_BLOCK_MS = 5000;
/** Pause after a failed read or flush before trying again. */
const RETRY_PAUSE_MS = 1000;

/** BullMQ's lifecycle events stream of one source's queue: `<prefix>:ingest-<source>:events`. */
export function queueEventsStreamKey(prefix: string, source: SourceName): string {
  return `${prefix}:${queueName(source)}:events`;
}

type XReadReply = [key: string, items: [id: string, fields: string[]][]][] | null;

interface DrainWaiter {
  targets: Record<string, string>;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * The central audit log sink: reads the workers' rich event stream and every
 * ingest queue's BullMQ lifecycle stream, appends each event as one JSON line
 * to `$DATA_DIR/logs/audit/yyyy/mm/dd.ndjson` (by the event's UTC day), fsyncs
 * in batches at least every AUDIT_FSYNC_EVERY_MS, and only then checkpoints the
 * last stream ids persisted. Killed at any instruction, it resumes from the
 * checkpoint: nothing is lost, and what is written twice carries the same
 * event id (readers drop duplicates).
 */
export async function startAuditSink(options: AuditSinkOptions): Promise<AuditSink> {
  const { config } = options;
  const logger = options.logger.child({ component: 'audit-sink' });
  const sources = options.sources ?? SOURCES;
  const batchSize = options.batchSize ?? 1000;
  const maxPending = options.maxPendingEvents ?? 10_000;
  const fsyncEveryMs = config.audit.fsyncEveryMs;

  const logDir = auditLogDir(config.dataDir);
  const checkpointFile = checkpointPath(logDir);
  const workerStream = auditStreamKey(config.queuePrefix);
  const sourceOfStream = new Map<string, SourceName>(sources.map((s) => [queueEventsStreamKey(config.queuePrefix, s), s]));
  const streams = [workerStream, ...sourceOfStream.keys()];

  const commands = createProducerConnection(redisTarget(config), 'recomart-audit-sink');
  try {
    await connectGuarded(commands, redisTarget(config), (m) => logger.warn({ event: 'redis-guard' }, m));
  } catch (err) {
    commands.disconnect();
    throw err;
  }
  commands.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));

  const loaded = await loadCheckpoint(checkpointFile);
  if (loaded.problem) logger.warn({ event: 'checkpoint-unreadable' }, loaded.problem);
  let persisted: Record<string, string> = {};
  for (const key of streams) persisted[key] = loaded.positions[key] ?? STREAM_START;
  await warnAboutTrimmedEvents(commands, persisted, logger);

  const reader = createWorkerConnection(redisTarget(config), 'recomart-audit-sink-reader');
  reader.on('error', (err: Error) => {
    if (!stopping) logger.warn({ err: err.message }, 'redis reader connection error (reconnecting)');
  });
  const appender = new DayFileAppender();

  const cursor: Record<string, string> = { ...persisted };
  let pending = new Map<string, string[]>();
  let pendingEvents = 0;
  /** When the oldest entry not yet persisted was read; undefined when the cursor equals the checkpoint. */
  let pendingSince: number | undefined;
  let stopping = false;
  let wakeUp: (() => void) | undefined;
  const waiters: DrainWaiter[] = [];

  logger.info({ event: 'audit-sink-started', logDir, streams: persisted, fsyncEveryMs }, 'audit sink started');

  function isCaughtUp(targets: Record<string, string>): boolean {
    return Object.entries(targets).every(([key, id]) => compareStreamIds(persisted[key] ?? STREAM_START, id) >= 0);
  }

  function settleWaiters(): void {
    for (const w of [...waiters]) {
      if (isCaughtUp(w.targets)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  function accept(entry: StreamEntry): void {
    const source = sourceOfStream.get(entry.stream);
    let event: AuditEvent | null;
    if (source) {
      event = lifecycleEventFromEntry(entry, source);
    } else {
      const read = workerEventFromEntry(entry);
      if ('unreadable' in read) {
        logger.warn({ event: 'unreadable-entry', stream: entry.stream, entryId: entry.id }, `audit stream entry skipped: ${read.unreadable}`);
        event = null;
      } else {
        event = read;
      }
    }
    if (!event) return;
    const at = Date.parse(event.at);
    const file = dayFileOf(logDir, Number.isNaN(at) ? Date.parse(streamIdTime(entry.id)) : at);
    const lines = pending.get(file) ?? [];
    lines.push(JSON.stringify(event));
    pending.set(file, lines);
    pendingEvents += 1;
  }

  async function flush(): Promise<void> {
    if (pendingSince === undefined) return;
    const lines = pending;
    const positions = { ...cursor };
    const count = pendingEvents;
    pending = new Map();
    pendingEvents = 0;
    pendingSince = undefined;
    try {
      await appender.append(lines);
      await saveCheckpoint(checkpointFile, positions);
    } catch (err) {
      // Re-read from the last checkpoint: lines that did reach a file come again under the same ids.
      // Reopening the files starts a fresh line after anything torn by the failed write.
      Object.assign(cursor, persisted);
      await appender.close();
      throw err;
    }
    persisted = positions;
    logger.debug({ event: 'audit-flushed', events: count, streams: positions }, 'audit events persisted');
    settleWaiters();
  }

  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  }

  async function run(): Promise<void> {
    while (!stopping) {
      const wait = pendingSince === undefined ? IDLE_BLOCK_MS : Math.max(1, pendingSince + fsyncEveryMs - Date.now());
      let reply: XReadReply = null;
      try {
        reply = await reader.xread('COUNT', batchSize, 'BLOCK', wait, 'STREAMS', ...streams, ...streams.map((k) => cursor[k] as string));
      } catch (err) {
        if (stopping) break;
        logger.warn({ err: (err as Error).message }, 'audit sink could not read the streams; retrying');
        await pause(RETRY_PAUSE_MS);
        continue;
      }
      for (const [stream, items] of reply ?? []) {
        for (const [id, flat] of items) {
          accept({ stream, id, fields: fieldsOf(flat) });
          cursor[stream] = id;
          pendingSince ??= Date.now();
        }
      }
      if (pendingSince !== undefined && (Date.now() >= pendingSince + fsyncEveryMs || pendingEvents >= maxPending)) {
        try {
          await flush();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'audit sink could not persist events; re-reading them from the checkpoint');
          if (!stopping) await pause(RETRY_PAUSE_MS);
        }
      }
    }
    await flush();
  }

  const stopped = run()
    .catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'audit sink stopped on an error');
      throw err;
    })
    .finally(async () => {
      stopping = true;
      reader.disconnect();
      await appender.close();
      commands.disconnect();
      for (const w of waiters.splice(0)) {
        if (isCaughtUp(w.targets)) w.resolve();
        else w.reject(new Error('the audit sink stopped before it had persisted every event'));
      }
      logger.info({ event: 'audit-sink-stopped', streams: persisted }, 'audit sink stopped');
    });
  // Callers observe failures through `stopped`; this keeps an unobserved rejection from crashing the process.
  stopped.catch(() => undefined);

  return {
    logDir,
    streams,
    async drained() {
      const targets: Record<string, string> = {};
      for (const key of streams) {
        const last = await commands.xrevrange(key, '+', '-', 'COUNT', 1);
        if (last[0]) targets[key] = last[0][0];
      }
      await new Promise<void>((resolve, reject) => {
        waiters.push({ targets, resolve, reject });
        settleWaiters();
      });
    },
    async close() {
      stopping = true;
      reader.disconnect();
      wakeUp?.();
      await stopped;
    },
    stopped,
  };
}

/**
 * Warns when a stream has trimmed entries the sink never persisted (its
 * MAXLEN was too small for how long the sink was away). Needs Redis 7's
 * `max-deleted-entry-id`; older servers are not checked.
 */
async function warnAboutTrimmedEvents(conn: Redis, positions: Readonly<Record<string, string>>, logger: Logger): Promise<void> {
  for (const [key, position] of Object.entries(positions)) {
    let info: unknown[];
    try {
      info = (await conn.call('XINFO', 'STREAM', key)) as unknown[];
    } catch {
      continue;
    }
    const at = info.indexOf('max-deleted-entry-id');
    const maxDeleted = at >= 0 ? info[at + 1] : undefined;
    if (typeof maxDeleted === 'string' && maxDeleted !== STREAM_START && compareStreamIds(maxDeleted, position) > 0) {
      logger.warn(
        { event: 'audit-events-trimmed', stream: key, persistedUpTo: position, trimmedUpTo: maxDeleted },
        `stream ${key} dropped entries up to ${maxDeleted} that the audit log never received; raise AUDIT_STREAM_MAXLEN`,
      );
    }
  }
}
