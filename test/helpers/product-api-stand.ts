import { Redis } from 'ioredis';
import { startMockProductApi, type MockApiHandle, type MockApiInput } from '@recomart/mock-product-api';
import { dropPrefix, makeTestEnv, type TestEnv } from './test-env.js';
import { spawnWorker, stopWorkers, type WorkerProcess } from './worker-processes.js';

/** A mock product API, a test env whose `PRODUCTS_API_URL` is it, and product workers in their own processes. */
export interface ProductApiStand {
  readonly api: MockApiHandle;
  readonly t: TestEnv;
  /** Spawns `n` product workers (`--concurrency 1` each) and waits until all are ready. */
  startWorkers(n: number): Promise<WorkerProcess[]>;
  /** Stops the workers, drops the queue prefix, closes the API and removes the data dir. */
  close(): Promise<void>;
}

export async function productApiStand(name: string, apiInput: MockApiInput, env: Record<string, string>): Promise<ProductApiStand> {
  const api = await startMockProductApi({ port: 0, ...apiInput });
  const t = makeTestEnv(name, { PRODUCTS_API_URL: api.url, ...env });
  const redis = new Redis(t.config.redisUrl);
  const workers: WorkerProcess[] = [];
  return {
    api,
    t,
    async startWorkers(n) {
      const started = Array.from({ length: n }, () => spawnWorker(t.env, ['--sources', 'products', '--concurrency', '1']));
      workers.push(...started);
      await Promise.all(started.map((w) => w.ready));
      return started;
    },
    async close() {
      await stopWorkers(workers);
      await dropPrefix(redis, t.prefix);
      redis.disconnect();
      await api.close();
      t.cleanup();
    },
  };
}
