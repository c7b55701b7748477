import { addDays } from '@recomart/jobs';
import { auditStreamKey } from '@recomart/queue';
import { generateClickstreamDay } from '@recomart/sources';
import { startWorker, type RunningWorker } from '@recomart/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecomart } from '../../../test/helpers/run-cli.js';
import { auditLogDir } from '../src/audit-log-paths.js';
import { readAuditLog } from '../src/audit-log-reader.js';
import { queueEventsStreamKey } from '../src/audit-sink.js';
import { lifecycleEventFromEntry } from '../src/lifecycle-event.js';
import { fieldsOf } from '../src/stream-entry.js';
import { compareStreamIds } from '../src/stream-id.js';
import { workerEventFromEntry } from '../src/worker-event.js';
import { RecomartProcess } from './child-process-lines.js';
import { createTestEnv, type TestEnv } from './test-env.js';

const FIRST_DAY = '2026-10-01';
const DAYS = 30;
const LAST_DAY = addDays(FIRST_DAY, DAYS - 1);

let t: TestEnv;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  t = await createTestEnv({ LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '1' });
  for (let d = 0; d < DAYS; d++) await generateClickstreamDay({ landingDir: t.config.landingDir, date: addDays(FIRST_DAY, d), rows: 300 });
});
afterAll(async () => {
  await worker?.close(2000);
  await t.cleanup();
});

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
    const running = await startWorker({ config: t.config, logger: t.logger, sources: ['clickstream'], httpPort: null });
    worker = running;
    const bullWorker = running.workers.get('clickstream');
    const completed = new Set<string>();
    const allCompleted = new Promise<void>((resolve) => {
      bullWorker?.on('completed', (job) => {
        completed.add(job.id as string);
        if (completed.size === DAYS) resolve();
      });
    });

    const first = new RecomartProcess(['audit-sink'], t.env);
    let second: RecomartProcess | undefined;
    try {
      await first.waitForLine((l) => l.event === 'audit-sink-started');
      const backfill = await runRecomart(['backfill', '--source', 'clickstream', '--from', FIRST_DAY, '--to', LAST_DAY], t.env);
      expect(backfill.code, backfill.stderr).toBe(0);
      // Kill it the moment it has persisted its first batch, with the backfill still running.
      await first.waitForLine((l) => l.event === 'audit-flushed');
      first.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect(completed.size).toBeLessThan(DAYS);
      const persistedBeforeRestart = await readAuditLog(auditLogDir(t.dataDir));
      expect(persistedBeforeRestart.events.length).toBeGreaterThan(0);
      await allCompleted;

      second = new RecomartProcess(['audit-sink'], t.env);
      const targets: Record<string, string> = {};
      for (const key of [auditStreamKey(t.prefix), queueEventsStreamKey(t.prefix, 'clickstream')]) {
        const last = await t.redis.xrevrange(key, '+', '-', 'COUNT', 1);
        targets[key] = (last[0] as [string, string[]])[0];
      }
      await second.waitForLine((l) => covers(l, targets));
      second.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);

      const log = await readAuditLog(auditLogDir(t.dataDir));
      const expected = await expectedEventIds();
      expect(log.events.map((e) => e.eventId).sort()).toEqual([...expected].sort());
      for (let d = 0; d < DAYS; d++) {
        const date = addDays(FIRST_DAY, d);
        const kinds = new Set(log.events.filter((e) => e.date === date).map((e) => `${e.type}${e.origin === 'queue' ? '/queue' : ''}`));
        for (const kind of ['enqueued/queue', 'started/queue', 'started', 'committed', 'completed/queue']) expect(kinds.has(kind), `${date} ${kind}`).toBe(true);
      }
      const committed = log.events.filter((e) => e.type === 'committed');
      expect(new Set(committed.map((e) => e.jobId))).toEqual(new Set(Array.from({ length: DAYS }, (_, d) => `clickstream__${addDays(FIRST_DAY, d)}`)));
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
    }
  });
});
