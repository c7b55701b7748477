import { auditQueryCommand, readAuditLog } from '@recomart/audit';
import { queueName } from '@recomart/jobs';
import { CONTRACT_HEADER } from '@recomart/sources';
import type { AuditEvent } from '@recomart/logging';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureIo } from '../../../test/helpers/capture-io.js';
import { basic, httpRequest } from './http-request.js';
import { OPERATOR, OPERATOR_PASSWORD, startOpsStack, type OpsStack } from './ops-stack.js';

const DATE = '2026-11-20';
let s: OpsStack;

beforeAll(async () => {
  s = await startOpsStack('board-flow');
});
afterAll(async () => {
  await s.close();
});

/** The position of the first event that passes `test`; -1 when none does. */
const indexOf = (events: AuditEvent[], test: (e: AuditEvent) => boolean) => events.findIndex(test);

describe('an operator retries a job that failed for good', () => {
  it('fails on a broken landing file, completes after the fix and a board retry, and the audit log tells it in order', async () => {
    await s.writeLanding(DATE, 'part-0001.csv', 'uid,pid,kind\n1,2,view\n');
    const jobId = await s.enqueue(DATE);
    await s.waitFor(jobId, 'failed');
    const failed = await s.queue.getJob(jobId);
    expect(failed?.failedReason).toContain('header is missing');
    expect(failed?.attemptsMade).toBe(1);

    await s.writeLanding(DATE, 'part-0001.csv', `${CONTRACT_HEADER}\nu1,p1,view,${DATE}T10:00:00Z,web\nu2,p1,click,${DATE}T10:00:05Z,ios\n`);
    const completed = s.waitFor(jobId, 'completed');
    const res = await httpRequest(`${s.board.url}api/queues/${queueName('clickstream')}/${jobId}/retry`, {
      method: 'PUT',
      headers: { Authorization: basic(OPERATOR, OPERATOR_PASSWORD), Origin: s.board.url.slice(0, -1) },
    });
    expect(res.status).toBe(204);
    await completed;
    expect((await s.queue.getJob(jobId))?.returnvalue).toMatchObject({ status: 'committed', version: 1, records: 2 });
    const manifest = await s.worker.lake.readManifest('clickstream', DATE);
    expect(manifest?.version).toBe(1);

    await s.sink.drained();
    const { events } = await readAuditLog(s.sink.logDir, { source: 'clickstream', date: DATE });
    const failure = indexOf(events, (e) => e.type === 'failed' && e.final === true && e.worker !== undefined && e.errorClass === 'SchemaMismatchError');
    const retry = indexOf(events, (e) => e.type === 'operator-action' && e.action === 'retry' && e.operator === OPERATOR && e.jobId === jobId);
    const commit = indexOf(events, (e) => e.type === 'committed' && e.version === 1 && e.attempt === 2);
    const done = indexOf(events, (e) => e.type === 'completed' && e.origin === 'queue');
    expect(failure).toBeGreaterThanOrEqual(0);
    expect(retry).toBeGreaterThan(failure);
    expect(commit).toBeGreaterThan(retry);
    expect(done).toBeGreaterThan(commit);
    const started = events.filter((e) => e.type === 'started' && e.origin !== 'queue').map((e) => e.attempt);
    expect(started).toEqual([1, 2]);

    const io = captureIo(s.t.env);
    expect(await auditQueryCommand.run(['--source', 'clickstream', '--date', DATE], io)).toBe(0);
    const timeline = io.out();
    expect(timeline).toContain(`operator ${OPERATOR}`);
    expect(timeline).toContain(`${OPERATOR} ran retry on queue ingest-clickstream, job ${jobId}`);
    expect(timeline).toMatch(/SchemaMismatchError: clickstream\/2026-11-20\/part-0001\.csv line 1: header is missing .* \(final\)/);
    expect(timeline).toContain('committed version 1 (1 files, 2 records, 0 rejected');
  });
});
