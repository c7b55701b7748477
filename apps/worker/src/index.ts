export { workerCommand, parseSourcesFlag } from './worker-command.js';
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker-runtime.js';
export {
  createIngestProcessor,
  RetryableJobError,
  type IngestJobLike,
  type AuditSink,
  type ProcessorDeps,
  type ProcessorMetrics,
} from './processor.js';
export { WorkerMetrics } from './metrics.js';
export { startHealthServer, type HealthServer } from './health-server.js';
