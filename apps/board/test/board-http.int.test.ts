import { queueName } from '@recomart/jobs';
import type { AuditEvent } from '@recomart/logging';
import { AUDIT_STREAM_FIELD, auditStreamKey } from '@recomart/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecomart } from '../../../test/helpers/run-cli.js';
import { makeTestEnv, type TestEnv } from '../../../test/helpers/test-env.js';
import { deleteKeysUnder } from './redis-keys.js';
import { startBoard, type RunningBoard } from '../src/board-server.js';
import { seedFailedJob } from './failed-job.js';
import { basic, httpRequest } from './http-request.js';

const USER = 'alice';
const PASSWORD = 'tr0ub4dor&3-board';
const JOB = 'clickstream__2026-11-20';

let t: TestEnv;
let redis: Redis;
let board: RunningBoard;
let queue: Queue;

async function operatorEvents(): Promise<AuditEvent[]> {
  const entries = await redis.xrange(auditStreamKey(t.prefix), '-', '+');
  return entries
    .map(([, f]) => JSON.parse(f[f.indexOf(AUDIT_STREAM_FIELD) + 1] as string) as AuditEvent)
    .filter((e) => e.type === 'operator-action');
}

beforeAll(async () => {
  t = makeTestEnv('board', { BOARD_USER: USER, BOARD_PASSWORD: PASSWORD });
  redis = new Redis(t.config.redisUrl);
  queue = new Queue(queueName('clickstream'), { connection: redis, prefix: t.prefix });
  await seedFailedJob(t.config.redisUrl, t.prefix, 'clickstream', JOB, '2026-11-20', 'header mismatch');
  board = await startBoard({ config: t.config, logger: t.logger, port: 0 });
});

afterAll(async () => {
  await board.close();
  await queue.close();
  await deleteKeysUnder(redis, t.prefix);
  redis.disconnect();
  t.cleanup();
});

const UI = '';
const API = 'api/queues';
const ASSET = 'static/images/logo.svg';

describe('the board behind basic auth', () => {
  it('answers 401 with a basic-auth challenge to the UI, the API and a static asset without credentials', async () => {
    for (const path of [UI, API, ASSET, `queue/${queueName('clickstream')}/${JOB}`, `api/queues/${queueName('clickstream')}/${JOB}`]) {
      const res = await httpRequest(board.url + path);
      expect(res.status, path).toBe(401);
      expect(res.headers['www-authenticate'], path).toMatch(/^Basic realm="RecoMart board"/);
      expect(res.body, path).not.toContain('header mismatch');
    }
  });

  it('answers 401 to a wrong password or an unknown user', async () => {
    for (const auth of [basic(USER, 'wrong'), basic('mallory', PASSWORD), basic(USER, `${PASSWORD}x`), `Bearer ${PASSWORD}`]) {
      for (const path of [UI, API, ASSET]) expect((await httpRequest(board.url + path, { headers: { Authorization: auth } })).status).toBe(401);
    }
  });

  it('serves the UI, the API and the assets to the operator', async () => {
    const headers = { Authorization: basic(USER, PASSWORD) };
    const ui = await httpRequest(board.url, { headers });
    expect(ui.status).toBe(200);
    expect(ui.body).toContain('<div id="root">');
    expect(ui.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await httpRequest(board.url + ASSET, { headers })).status).toBe(200);
    const job = await httpRequest(`${board.url}api/queues/${queueName('clickstream')}/${JOB}`, { headers });
    expect(job.status).toBe(200);
    expect(JSON.parse(job.body)).toMatchObject({ status: 'failed', job: { id: JOB, failedReason: 'header mismatch' } });
  });

  it('refuses a change from another origin, or from nowhere, with 403', async () => {
    const retry = `${board.url}api/queues/${queueName('clickstream')}/${JOB}/retry`;
    const auth = basic(USER, PASSWORD);
    const attempts: Record<string, string>[] = [
      { Authorization: auth, Origin: 'http://evil.example' },
      { Authorization: auth, Referer: 'http://evil.example/page' },
      { Authorization: auth, Origin: 'null' },
      { Authorization: auth },
      { Authorization: auth, Origin: board.url.slice(0, -1), 'Sec-Fetch-Site': 'cross-site' },
    ];
    for (const headers of attempts) {
      expect((await httpRequest(retry, { method: 'PUT', headers })).status).toBe(403);
    }
    expect(await (await queue.getJob(JOB))?.getState()).toBe('failed');
    expect(await operatorEvents()).toEqual([]);
  });

  it('retries through the API for the operator and records who did it', async () => {
    const res = await httpRequest(`${board.url}api/queues/${queueName('clickstream')}/${JOB}/retry`, {
      method: 'PUT',
      headers: { Authorization: basic(USER, PASSWORD), Origin: board.url.slice(0, -1) },
    });
    expect(res.status).toBe(204);
    expect(await (await queue.getJob(JOB))?.getState()).toBe('waiting');
    const [event, ...more] = await operatorEvents();
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: 'operator-action',
      operator: USER,
      action: 'retry',
      queue: queueName('clickstream'),
      jobId: JOB,
      source: 'clickstream',
      date: '2026-11-20',
    });
  });

  it('never writes the password to its log, even typed as a user name', async () => {
    await httpRequest(board.url, { headers: { Authorization: basic(PASSWORD, 'guess') } });
    const log = t.logLines.join('\n');
    expect(log).toContain('board login refused');
    expect(log).not.toContain(PASSWORD);
  });
});

describe('a read-only board', () => {
  it('refuses the retry call itself (405) and leaves the job failed', async () => {
    const ro = makeTestEnv('board-ro', { BOARD_USER: USER, BOARD_PASSWORD: PASSWORD, BOARD_READ_ONLY: 'true', QUEUE_PREFIX: t.prefix });
    const readOnly = await startBoard({ config: ro.config, logger: ro.logger, port: 0 });
    try {
      await seedFailedJob(t.config.redisUrl, t.prefix, 'clickstream', 'clickstream__2026-11-21', '2026-11-21', 'header mismatch');
      const headers = { Authorization: basic(USER, PASSWORD), Origin: readOnly.url.slice(0, -1) };
      const res = await httpRequest(`${readOnly.url}api/queues/${queueName('clickstream')}/clickstream__2026-11-21/retry`, { method: 'PUT', headers });
      expect(res.status).toBe(405);
      expect(JSON.parse(res.body)).toEqual({ error: 'the board is read-only (BOARD_READ_ONLY=true)' });
      expect((await httpRequest(`${readOnly.url}${API}`, { headers })).status).toBe(200);
      expect(await (await queue.getJob('clickstream__2026-11-21'))?.getState()).toBe('failed');
      expect((await operatorEvents()).filter((e) => e.jobId === 'clickstream__2026-11-21')).toEqual([]);
    } finally {
      await readOnly.close();
      ro.cleanup();
    }
  });
});

describe('a board without auth', () => {
  it('refuses to start without credentials: exit 2 and the reason', async () => {
    const r = await runRecomart(['board', '--port', '0'], { ...t.env, BOARD_USER: '', BOARD_PASSWORD: '' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'recomart board: the board needs BOARD_USER and BOARD_PASSWORD (HTTP basic auth); to run it without auth on this machine only, set BOARD_AUTH=off and BOARD_HOST=127.0.0.1',
    );
  });

  it('with BOARD_AUTH=off on 127.0.0.1 serves anyone, but only under a loopback host name', async () => {
    const open = makeTestEnv('board-open', { BOARD_AUTH: 'off', QUEUE_PREFIX: t.prefix });
    const openBoard = await startBoard({ config: open.config, logger: open.logger, port: 0 });
    try {
      expect((await httpRequest(`${openBoard.url}${API}`)).status).toBe(200);
      expect((await httpRequest(`${openBoard.url}${API}`, { headers: { Host: `localhost:${openBoard.port}` } })).status).toBe(200);
      expect((await httpRequest(`${openBoard.url}${API}`, { headers: { Host: `rebound.example:${openBoard.port}` } })).status).toBe(421);
    } finally {
      await openBoard.close();
      open.cleanup();
    }
  });
});
