import { queueName, addDays } from '@recomart/jobs';
import { AuditEmitter, createIngestQueue, createWorkerConnection, auditStreamKey } from '@recomart/queue';
import { Worker, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogDir } from '../src/audit-log-paths.js';
import { readAuditLog } from '../src/audit-log-reader.js';
import { queueEventsStreamKey } from '../src/audit-sink.js';
import { lifecycleEventFromEntry } from '../src/lifecycle-event.js';
import { fieldsOf } from '../src/stream-entry.js';
import { compareStreamIds } from '../src/stream-id.js';
import { workerEventFromEntry } from '../src/worker-event.js';
import { RecomartProcess } from './child-process-lines.js';
import { createTestEnv, type TestEnv } from './test-env.js';

let t: TestEnv;
beforeAll(async () => {
  t = await createTestEnv({ LOG_LEVEL: 'debug' });
});
afterAll(async () => {
  await t.cleanup();
});

const FIRST_DAY = '2026-10-01';
const DAYS = 30;

/** The event ids the log must hold: one per audit stream entry and per lifecycle entry the sink keeps. */
async function expectedEventIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  const audit = auditStreamKey(t.prefix);
  for (const [id, flat] of await t.redis.xrange(audit, '-', '+')) {
    const e = workerEventFromEntry({ stream: audit, id, fields: fieldsOf(flat) });
    if ('eventId' in e) ids.add(e.eventId);
  }
  const lifecycle = queueEventsStreamKey(t.prefix, 'clickstream');
  for (const [id, flat] of await t.redis.xrange(lifecycle, '-', '+')) {
    const e = lifecycleEventFromEntry({ stream: lifecycle, id, fields: fieldsOf(flat) }, 'clickstream');
    if (e) ids.add(e.eventId);
  }
  return ids;
}

/** Whether a flush log line's positions cover the last entry of every stream. */
function covers(line: Record<string, unknown>, targets: Record<string, string>): boolean {
  const streams = line.streams as Record<string, string> | undefined;
  if (line.event !== 'audit-flushed' || !streams) return false;
  return Object.entries(targets).every(([k, id]) => streams[k] !== undefined && compareStreamIds(streams[k], id) >= 0);
}

describe('the audit sink killed with SIGKILL during a 30-day backfill', () => {
  it('holds every event exactly once (by event id) after a restart, none lost', async () => {
    const conn = createWorkerConnection(t.config.redisUrl);
    const queue = createIngestQueue('clickstream', conn, t.config);
    const emitter = new AuditEmitter(conn, t.prefix, t.config.audit.streamMaxLen);
    const done = new Set<string>();
    let allDone: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    // Stands in for the ingest worker: the same rich events per job (started, progress, committed).
    const worker = new Worker(
      queueName('clickstream'),
      async (job: Job<{ date: string }>) => {
        const base = { jobId: job.id, source: 'clickstream', date: job.data.date, attempt: job.attemptsMade + 1, worker: 'test:1', runId: `run-${job.id}` };
        await emitter.emit({ type: 'started', ...base, trigger: 'backfill' });
        for (const rows of [100, 200]) await emitter.emit({ type: 'progress', ...base, rows });
        await emitter.emit({ type: 'committed', ...base, version: 1, files: 1, records: 200, rejected: 0, bytes: 4096, durationMs: 5 });
        return { status: 'committed' };
      },
      { connection: conn, prefix: t.prefix, concurrency: 4 },
    );
    worker.on('completed', (job) => {
      done.add(job.id as string);
      if (done.size === DAYS) allDone();
    });
    const enqueue = (from: number, to: number) =>
      queue.addBulk(
        Array.from({ length: to - from }, (_, i) => {
          const date = addDays(FIRST_DAY, from + i);
          return { name: 'ingest', data: { source: 'clickstream', date, trigger: 'backfill' }, opts: { jobId: `clickstream__${date}` } };
        }),
      );

    const first = new RecomartProcess(['audit-sink'], t.env);
    const second = { process: undefined as RecomartProcess | undefined };
    try {
      await first.waitForLine((l) => l.event === 'audit-sink-started');
      await enqueue(0, 15);
      // Kill it the moment it has persisted a batch, with the first half of the backfill still flowing.
      await first.waitForLine((l) => l.event === 'audit-flushed');
      first.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      await enqueue(15, DAYS);
      await finished;

      const persistedBeforeKill = await readAuditLog(auditLogDir(t.dataDir));
      expect(persistedBeforeKill.events.length).toBeGreaterThan(0);

      second.process = new RecomartProcess(['audit-sink'], t.env);
      const targets: Record<string, string> = {};
      for (const key of [auditStreamKey(t.prefix), queueEventsStreamKey(t.prefix, 'clickstream')]) {
        const last = await t.redis.xrevrange(key, '+', '-', 'COUNT', 1);
        targets[key] = (last[0] as [string, string[]])[0];
      }
      await second.process.waitForLine((l) => covers(l, targets));
      second.process.kill('SIGTERM');
      expect((await second.process.exited).code).toBe(0);

      const log = await readAuditLog(auditLogDir(t.dataDir));
      const expected = await expectedEventIds();
      expect(expected.size).toBeGreaterThan(DAYS * 6);
      expect(log.events.map((e) => e.eventId).sort()).toEqual([...expected].sort());
      for (let d = 0; d < DAYS; d++) {
        const date = addDays(FIRST_DAY, d);
        const types = log.events.filter((e) => e.date === date).map((e) => `${e.type}${e.origin === 'queue' ? '/queue' : ''}`);
        expect(types.sort(), date).toEqual(['committed', 'completed/queue', 'enqueued/queue', 'progress', 'progress', 'started', 'started/queue']);
      }
    } finally {
      first.kill('SIGKILL');
      second.process?.kill('SIGKILL');
      await worker.close();
      await queue.close();
      conn.disconnect();
    }
  });
});
