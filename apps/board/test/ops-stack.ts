import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startAuditSink, type AuditSink } from '@recomart/audit';
import { ingestJobId, queueName } from '@recomart/jobs';
import { createIngestQueue, createWorkerConnection, type IngestQueue } from '@recomart/queue';
import { sourceRegistry } from '@recomart/sources';
import { startWorker, type RunningWorker } from '@recomart/worker';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';
import { deleteKeysUnder } from './redis-keys.js';
import { startBoard, type RunningBoard } from '../src/board-server.js';

export const OPERATOR = 'alice';
export const OPERATOR_PASSWORD = 'correct-horse-battery-staple';

/** The local stack an operator works with: audit sink, a real worker with the real clickstream source, the board. */
export interface OpsStack {
  readonly t: TestEnv;
  readonly sink: AuditSink;
  readonly worker: RunningWorker;
  readonly board: RunningBoard;
  readonly queue: IngestQueue;
  readonly redis: Redis;
  /** Writes a landing file atomically (a hidden temp file renamed into place, as exporters do). */
  writeLanding(date: string, name: string, body: string): Promise<void>;
  /** Enqueues the clickstream job of `date`; resolves to its id. */
  enqueue(date: string): Promise<string>;
  /** Resolves when the job is (or becomes) `state`; for `completed`, with its return value. */
  waitFor(jobId: string, state: 'failed' | 'completed'): Promise<unknown>;
  close(): Promise<void>;
}

export async function startOpsStack(name: string, env: Record<string, string> = {}): Promise<OpsStack> {
  const t = makeTestEnv(name, { BOARD_USER: OPERATOR, BOARD_PASSWORD: OPERATOR_PASSWORD, AUDIT_FSYNC_EVERY_MS: '20', ...env });
  const redis = createWorkerConnection(t.config.redisUrl);
  const queue = createIngestQueue('clickstream', redis, t.config);
  const events = new QueueEvents(queueName('clickstream'), { connection: { url: t.config.redisUrl }, prefix: t.prefix });
  await events.waitUntilReady();
  const sink = await startAuditSink({ config: t.config, logger: t.logger, sources: ['clickstream'] });
  const worker = await startWorker({ config: t.config, logger: t.logger, sources: ['clickstream'], registry: sourceRegistry, httpPort: null });
  const board = await startBoard({ config: t.config, logger: t.logger, port: 0 });

  return {
    t,
    sink,
    worker,
    board,
    queue,
    redis,
    async writeLanding(date, file, body) {
      const dir = path.join(t.config.landingDir, 'clickstream', date);
      await mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `.${file}.tmp`);
      await writeFile(tmp, body);
      await rename(tmp, path.join(dir, file));
    },
    async enqueue(date) {
      const jobId = ingestJobId('clickstream', date);
      await queue.add('ingest', { source: 'clickstream', date, trigger: 'manual' }, { jobId });
      return jobId;
    },
    async waitFor(jobId, state) {
      const reached = new Promise<unknown>((resolve) => {
        const onEvent = (args: { jobId: string; returnvalue?: unknown }) => {
          if (args.jobId !== jobId) return;
          events.off(state, onEvent);
          resolve(args.returnvalue);
        };
        events.on(state, onEvent);
      });
      const job = await queue.getJob(jobId);
      if (job && (await job.getState()) === state) return job.returnvalue;
      return reached;
    },
    async close() {
      await board.close();
      await worker.close(2000);
      await sink.close();
      await events.close();
      await queue.close();
      await deleteKeysUnder(redis, t.prefix);
      redis.disconnect();
      t.cleanup();
    },
  };
}
