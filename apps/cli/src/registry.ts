import type { Command } from '@recomart/command';

/** A subcommand and the module that owns it, loaded only when called. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/**
 * Every `recomart` subcommand, dispatched to the app that owns it. Modules are
 * imported lazily so `recomart --help` stays fast and one app's dependencies
 * never load for another's command.
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', summary: 'the whole local stack in one terminal (worker, scheduler, audit sink, board, mock API)', load: async () => (await import('./commands/start.js')).startCommand },
  { name: 'worker', summary: 'a worker process consuming the ingest queues', load: async () => (await import('@recomart/worker')).workerCommand },
  { name: 'schedule', summary: 'create or update the daily job schedulers (idempotent); --catch-up enqueues missing days', load: async () => (await import('@recomart/producer')).scheduleCommand },
  { name: 'enqueue', summary: 'enqueue one (source, date) ingest job', load: async () => (await import('@recomart/producer')).enqueueCommand },
  { name: 'backfill', summary: 'enqueue a date range, with a progress bar', load: async () => (await import('@recomart/producer')).backfillCommand },
  { name: 'status', summary: 'queue counts, schedulers, newest partition per source', load: async () => (await import('@recomart/producer')).statusCommand },
  { name: 'lake', summary: 'ls | show | current | verify | sweep | watch the raw lake', load: async () => (await import('./commands/lake.js')).lakeCommand },
  { name: 'audit-sink', summary: 'the central audit log sink process', load: async () => (await import('@recomart/audit')).auditSinkCommand },
  { name: 'audit', summary: 'query the central audit log', load: async () => (await import('@recomart/audit')).auditQueryCommand },
  { name: 'generate', summary: 'write realistic clickstream files into the landing zone', load: async () => (await import('./commands/generate.js')).generateCommand },
  { name: 'mock-api', summary: 'the simulated product REST API', load: async () => (await import('@recomart/mock-product-api')).mockApiCommand },
  { name: 'board', summary: 'the operator UI (Bull Board behind authentication)', load: async () => (await import('@recomart/board')).boardCommand },
];
