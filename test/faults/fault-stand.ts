import { Redis } from 'ioredis';
import { QueueEvents } from 'bullmq';
import { queueName, type SourceName } from '@recomart/jobs';
import { openLake, type Lake } from '@recomart/lake';
import { createIngestQueues, type IngestQueue } from '@recomart/queue';
import { AuditTail } from '../helpers/audit-tail.js';
import { dropPrefix, makeTestEnv, type TestEnv } from '../helpers/test-env.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from '../helpers/worker-processes.js';

/** Settings that make faults quick to recover from: short locks, quick stall checks, tiny backoff. */
export const FAULT_ENV: Readonly<Record<string, string>> = {
  WORKER_LOCK_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  JOB_BACKOFF_MS: '50',
  JOB_ATTEMPTS: '5',
  WORKER_CONCURRENCY: '1',
  LOG_LEVEL: 'info',
};

/**
 * Everything a fault scenario needs around real worker processes: a private
 * queue prefix and DATA_DIR, a Redis connection, the ingest queues, their
 * lifecycle events, a tail on the audit stream, and the spawned workers, all
 * released by `close()` (workers are killed even when the test failed).
 */
export class FaultStand {
  readonly t: TestEnv;
  readonly redis: Redis;
  readonly queues: Map<SourceName, IngestQueue>;
  readonly lake: Lake;
  readonly audit: AuditTail;
  readonly workers: WorkerProcess[] = [];
  private readonly events = new Map<SourceName, QueueEvents>();
  private readonly deferred: Array<() => Promise<void>> = [];

  constructor(name: string, overrides: Record<string, string> = {}) {
    this.t = makeTestEnv(name, { ...FAULT_ENV, ...overrides });
    this.redis = new Redis(this.t.config.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', () => undefined);
    this.queues = createIngestQueues(this.redis, this.t.config);
    this.lake = openLake({ dataDir: this.t.dataDir });
    this.audit = new AuditTail(this.t.config.redisUrl, this.t.prefix);
  }

  get env(): Record<string, string> {
    return this.t.env;
  }

  get dataDir(): string {
    return this.t.dataDir;
  }

  get prefix(): string {
    return this.t.prefix;
  }

  queue(source: SourceName): IngestQueue {
    return this.queues.get(source) as IngestQueue;
  }

  /** The lifecycle events of a source's queue, listening from now on. */
  async queueEvents(source: SourceName): Promise<QueueEvents> {
    let qe = this.events.get(source);
    if (!qe) {
      qe = new QueueEvents(queueName(source), { connection: { url: this.t.config.redisUrl }, prefix: this.t.prefix });
      qe.on('error', () => undefined);
      this.events.set(source, qe);
      await qe.waitUntilReady();
    }
    return qe;
  }

  /** Spawns `recomart worker` with this stand's environment (plus `env`), waiting until it is ready. */
  async spawn(args: readonly string[] = [], env: Record<string, string> = {}): Promise<WorkerProcess> {
    const w = spawnWorker({ ...this.t.env, ...env }, args);
    this.workers.push(w);
    await w.ready;
    return w;
  }

  /** The spawned worker with this pid. */
  worker(pid: number): WorkerProcess {
    const w = this.workers.find((x) => x.pid === pid);
    if (!w) throw new Error(`no spawned worker has pid ${pid} (have ${this.workers.map((x) => x.pid).join(', ')})`);
    return w;
  }

  /** Kills one worker with `signal` and waits for it to exit. */
  async kill(w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    w.child.kill(signal);
    return w.exited;
  }

  /** Runs `fn` on close, after the workers are gone and before the data dir is removed (e.g. an unmount). */
  defer(fn: () => Promise<void>): void {
    this.deferred.push(fn);
  }

  async close(): Promise<void> {
    await stopWorkers(this.workers, 'SIGKILL');
    for (const fn of this.deferred.splice(0).reverse()) await fn();
    await Promise.allSettled([...this.events.values()].map((e) => e.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.audit.close();
    await dropPrefix(this.redis, this.t.prefix).catch(() => undefined);
    this.redis.disconnect();
    this.t.cleanup();
  }
}

