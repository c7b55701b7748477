import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestJobResult } from '@recomart/queue';
import { FaultStand } from './fault-stand.js';
import { snapshotLake } from './lake-snapshot.js';
import { reconcile } from './reconciler.js';

const HEADER = 'user_id,product_id,event_type,timestamp,device';

/** A day's export: a few valid rows. */
function exportOf(date: string): Buffer {
  return Buffer.from(`${HEADER}\n${[1, 2, 3].map((i) => `u${i},p${i},view,${date}T10:0${i}:00.000Z,web`).join('\n')}\n`);
}

/** How the export server answers the first request of a date (later ones get the whole export at once). */
type FirstAnswer = 'drip' | 'steady-but-endless';

describe('fault 11: a clickstream export server that drips, under a real worker process', () => {
  let s: FaultStand;
  let server: Server;
  const firstAnswer = new Map<string, FirstAnswer>();
  const requests = new Map<string, number>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const date = /\/exports\/(\d{4}-\d{2}-\d{2})\.csv$/.exec(req.url ?? '')?.[1] ?? '';
      const n = (requests.get(date) ?? 0) + 1;
      requests.set(date, n);
      const body = exportOf(date);
      const first = n === 1 ? firstAnswer.get(date) : undefined;
      let timer: NodeJS.Timeout | undefined;
      req.socket.once('close', () => clearInterval(timer));
      if (first === 'drip') {
        // One byte every 20 ms (50 bytes/s): never a gap long enough for CLICKSTREAM_TIMEOUT_MS.
        res.writeHead(200, { 'content-length': body.length });
        let sent = 0;
        timer = setInterval(() => {
          if (sent < body.length - 1) res.write(body.subarray(sent, ++sent));
        }, 20);
      } else if (first === 'steady-but-endless') {
        // 512 bytes every 20 ms (25 KiB/s, above the minimum rate) of a body that would take hours.
        res.writeHead(200, { 'content-length': 512 * 1024 * 1024 });
        timer = setInterval(() => res.write(Buffer.alloc(512, 0x78)), 20);
      } else {
        res.writeHead(200, { 'content-length': body.length }).end(body);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    s = new FaultStand('f-drip', {
      CLICKSTREAM_URL_TEMPLATE: `${base}/exports/{date}.csv`,
      CLICKSTREAM_TIMEOUT_MS: '10000',
      CLICKSTREAM_MIN_BYTES_PER_S: '2000',
      CLICKSTREAM_MIN_RATE_GRACE_MS: '400',
      CLICKSTREAM_DOWNLOAD_DEADLINE_MS: '3000',
      JOB_ATTEMPTS: '2',
    });
    await s.spawn(['--sources', 'clickstream']);
    await s.queueEvents('clickstream');
  });
  afterAll(async () => {
    await s?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function ingest(date: string, first: FirstAnswer): Promise<{ result: IngestJobResult; trail: string[]; error: string }> {
    firstAnswer.set(date, first);
    const jobId = `clickstream__${date}`;
    const before = await snapshotLake(s.dataDir);
    const job = await s.queue('clickstream').add('ingest', { source: 'clickstream', date, trigger: 'manual' }, { jobId });
    const result = (await job.waitUntilFinished(await s.queueEvents('clickstream'), 60_000)) as IngestJobResult;
    await s.audit.catchUp();
    const events = s.audit.of(jobId);
    const report = await reconcile({ dataDir: s.dataDir, expected: [{ source: 'clickstream', date }], before, audit: { redis: s.redis, prefix: s.prefix, jobIds: [jobId] } });
    expect(report.problems).toEqual([]);
    expect(report.staging).toEqual([]);
    const failed = events.find((e) => e.type === 'failed');
    return { result, trail: events.map((e) => e.type), error: String(failed?.error) };
  }

  it('a body dripping a byte every 20 ms fails on CLICKSTREAM_MIN_BYTES_PER_S after the grace (retryable); the next attempt commits', async () => {
    const o = await ingest('2026-09-01', 'drip');
    expect(o.trail).toEqual(['started', 'failed', 'retry-scheduled', 'started', 'committed']);
    expect(o.error).toMatch(/ too slow: \d+ of 167 bytes received in \d+\.\d s \(\d+ bytes\/s\), under CLICKSTREAM_MIN_BYTES_PER_S 2000 after the 400 ms grace \(CLICKSTREAM_MIN_RATE_GRACE_MS\)$/);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 3 });
    expect(requests.get('2026-09-01')).toBe(2);
  });

  it('a steady body that would take hours fails at CLICKSTREAM_DOWNLOAD_DEADLINE_MS (retryable); the next attempt commits', async () => {
    const o = await ingest('2026-09-02', 'steady-but-endless');
    expect(o.trail).toEqual(['started', 'failed', 'retry-scheduled', 'started', 'committed']);
    expect(o.error).toMatch(/ took longer than 3000 ms \(CLICKSTREAM_DOWNLOAD_DEADLINE_MS\): \d+ of 536870912 bytes received$/);
    expect(o.result).toMatchObject({ status: 'committed', version: 1, records: 3 });
  });
});
