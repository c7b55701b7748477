import { appendFile, readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { AuditEmitter, createIngestQueue, createWorkerConnection } from '@recomart/queue';
import { queueName } from '@recomart/jobs';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLogDir, checkpointPath, dayFileOf } from '../src/audit-log-paths.js';
import { readAuditLog } from '../src/audit-log-reader.js';
import { startAuditSink } from '../src/audit-sink.js';
import { createTestEnv, type TestEnv } from './test-env.js';

let t: TestEnv;

beforeAll(async () => {
  t = await createTestEnv();
});
afterAll(async () => {
  await t.cleanup();
});

async function rawLines(): Promise<string[]> {
  const file = dayFileOf(auditLogDir(t.dataDir), Date.now());
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('the audit sink', () => {
  it('persists the workers\' events and the queue lifecycle, each once, in the day file', async () => {
    const sink = await startAuditSink({ config: t.config, logger: t.logger, sources: ['clickstream'] });
    const conn = createWorkerConnection(t.config.redisUrl);
    const queue = createIngestQueue('clickstream', conn, t.config);
    const emitter = new AuditEmitter(conn, t.prefix, t.config.audit.streamMaxLen);
    const worker = new Worker(
      queueName('clickstream'),
      async (job) => {
        await emitter.emit({ type: 'started', jobId: job.id, source: 'clickstream', date: '2026-11-20', attempt: job.attemptsMade + 1, worker: 'test:1' });
        throw new UnrecoverableError('header is user,item');
      },
      { connection: conn, prefix: t.prefix },
    );
    try {
      const failed = once(worker, 'failed');
      await queue.add('ingest', { source: 'clickstream', date: '2026-11-20', trigger: 'manual' }, { jobId: 'clickstream__2026-11-20', attempts: 1 });
      await failed;
      await sink.drained();

      const log = await readAuditLog(sink.logDir, { jobId: 'clickstream__2026-11-20' });
      const seen = log.events.map((e) => `${e.type}/${e.origin === 'queue' ? 'queue' : 'worker'}`);
      expect(seen).toEqual(['enqueued/queue', 'started/queue', 'started/worker', 'failed/queue']);
      expect(log.events.at(-1)).toMatchObject({ error: 'header is user,item', final: true, date: '2026-11-20', source: 'clickstream' });
      expect(log.duplicatesDropped).toBe(0);
      const checkpoint = JSON.parse(await readFile(checkpointPath(sink.logDir), 'utf8')) as { streams: Record<string, string> };
      expect(Object.keys(checkpoint.streams).sort()).toEqual([`${t.prefix}:audit:events`, `${t.prefix}:ingest-clickstream:events`]);
    } finally {
      await worker.close();
      await queue.close();
      conn.disconnect();
      await sink.close();
    }
  });

  it('resumes from its checkpoint: events sent while it was stopped arrive, none twice', async () => {
    const before = await rawLines();
    const emitter = new AuditEmitter(t.redis, t.prefix, t.config.audit.streamMaxLen);
    const whileStopped = await emitter.emit({ type: 'progress', jobId: 'clickstream__2026-11-21', source: 'clickstream', rows: 10 });

    const sink = await startAuditSink({ config: t.config, logger: t.logger, sources: ['clickstream'] });
    try {
      const afterStart = await emitter.emit({ type: 'progress', jobId: 'clickstream__2026-11-21', source: 'clickstream', rows: 20 });
      await sink.drained();
      const lines = await rawLines();
      expect(lines.slice(0, before.length)).toEqual(before);
      const added = lines.slice(before.length).map((l) => (JSON.parse(l) as { eventId: string }).eventId);
      expect(added).toEqual([whileStopped.eventId, afterStart.eventId]);
    } finally {
      await sink.close();
    }
  });

  it('starts a fresh line after a line torn by a crash, and readers skip the torn one', async () => {
    const file = dayFileOf(auditLogDir(t.dataDir), Date.now());
    await appendFile(file, '{"eventId":"torn","ty');
    const sink = await startAuditSink({ config: t.config, logger: t.logger, sources: ['clickstream'] });
    try {
      const emitter = new AuditEmitter(t.redis, t.prefix, t.config.audit.streamMaxLen);
      const event = await emitter.emit({ type: 'stalled', jobId: 'clickstream__2026-11-22', source: 'clickstream' });
      await sink.drained();
      const lines = await rawLines();
      expect(lines.at(-2)).toBe('{"eventId":"torn","ty');
      expect(JSON.parse(lines.at(-1) as string)).toEqual(event);
      const log = await readAuditLog(sink.logDir, { jobId: 'clickstream__2026-11-22' });
      expect(log.unreadableLines).toBe(1);
      expect(log.events).toEqual([event]);
    } finally {
      await sink.close();
    }
  });
});
