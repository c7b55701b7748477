import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotArrivedError, PermanentSourceError, RateLimitedError, TransientError } from '@recomart/jobs';
import { expandUrlTemplate } from '@recomart/sources';
import { GOOD, HEADER, clickstreamHarness, csv, sha256, type ClickstreamHarness } from './clickstream-harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('clickstream download (CLICKSTREAM_URL_TEMPLATE)', () => {
  let h: ClickstreamHarness;
  let server: Server;
  let base: string;
  let handler: Handler;
  const requests: string[] = [];
  const export1 = gzipSync(csv(HEADER, GOOD, GOOD, '1001,2001,buy,2024-05-01T10:00:00.000Z,web'));

  beforeEach(async () => {
    requests.length = 0;
    handler = (_req, res) => res.writeHead(404).end();
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers['accept-encoding'] ?? ''}`);
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h = await clickstreamHarness({ CLICKSTREAM_MAX_REJECT_RATIO: '1', CLICKSTREAM_TIMEOUT_MS: '300' });
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await h.close();
  });

  const template = () => `${base}/exports/{yyyy}/{mm}/{dd}/{date}.csv.gz`;
  const url = () => `${base}/exports/2024/05/01/2024-05-01.csv.gz`;

  it('fills in the template', () => {
    expect(expandUrlTemplate('https://x/{yyyy}/{mm}/{dd}/clicks-{date}.csv', '2024-05-01')).toBe('https://x/2024/05/01/clicks-2024-05-01.csv');
  });

  it('stores the bytes as served (no transparent gunzip), validates them, and records where they came from', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip', 'content-encoding': 'gzip', 'content-length': export1.length, etag: '"v1"' });
      res.end(export1);
    };
    const result = await h.run({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(result).toMatchObject({ status: 'committed', records: 2, rejected: 1, files: 1, bytes: export1.length });
    expect(requests).toEqual([`GET /exports/2024/05/01/2024-05-01.csv.gz identity`]);
    expect(sha256(await h.readLakeFile(1, '2024-05-01.csv.gz'))).toBe(sha256(export1));
    const manifest = await h.latest();
    expect(manifest?.files.find((f) => f.path === '2024-05-01.csv.gz')?.origin).toBe(url());
    expect(manifest?.provenance).toEqual({ download: { url: url(), status: 200, contentLength: export1.length, etag: '"v1"', lastModified: null } });
    expect((await h.rejected(1))[0]).toMatchObject({ file: '2024-05-01.csv.gz', line: 4, reasons: ['bad_event_type'] });
  });

  it('says the export has not arrived on 404 (retried)', async () => {
    const err = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(err).toBeInstanceOf(NotArrivedError);
    expect(err.message).toBe(`no clickstream export for 2024-05-01 at ${url()} yet (HTTP 404)`);
  });

  it('retries 5xx, honours 429 Retry-After, and gives up on other 4xx', async () => {
    handler = (_req, res) => res.writeHead(503).end('busy');
    const busy = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(busy).toBeInstanceOf(TransientError);
    expect(busy.message).toBe(`${url()} answered HTTP 503`);

    handler = (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end();
    const limited = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited.message).toBe(`${url()} answered HTTP 429 (rate limited)`);
    expect((limited as RateLimitedError).retryAfterMs).toBe(7000);

    handler = (_req, res) => res.writeHead(403).end();
    const refused = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(refused).toBeInstanceOf(PermanentSourceError);
    expect(refused.message).toBe(`${url()} answered HTTP 403; expected 200 with the export`);
    expect(await h.staging()).toEqual([]);
  });

  it('times out when no response comes, and when the body stalls', async () => {
    handler = () => undefined;
    const silent = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(silent).toBeInstanceOf(TransientError);
    expect(silent.message).toBe(`download of ${url()} timed out: no response within 300 ms (CLICKSTREAM_TIMEOUT_MS)`);

    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': export1.length });
      res.write(export1.subarray(0, 10));
    };
    const stalled = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(stalled).toBeInstanceOf(TransientError);
    expect(stalled.message).toBe(`download of ${url()} stalled: no data for 300 ms (CLICKSTREAM_TIMEOUT_MS)`);
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  });

  /** Answers 200 with the export's length, then one byte every `everyMs` (after `delayMs`); `closed` resolves when our side hangs up. */
  function drip(everyMs: number, delayMs = 0): { closed: Promise<void> } {
    let hungUp: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (hungUp = resolve));
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': export1.length });
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const start = setTimeout(() => {
        timer = setInterval(() => {
          if (sent < export1.length - 1) res.write(export1.subarray(sent, ++sent));
        }, everyMs);
      }, delayMs);
      req.socket.once('close', () => {
        clearTimeout(start);
        clearInterval(timer);
        hungUp();
      });
    };
    return { closed };
  }

  /** Runs against a server dripping a byte every 20 ms: a retryable failure whose message, after the URL, matches `tail`; our side hangs up; nothing written. */
  async function dripFails(env: Record<string, string>, tail: string): Promise<void> {
    const { closed } = drip(20);
    const err = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template(), CLICKSTREAM_TIMEOUT_MS: '10000', ...env } });
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(new RegExp(`^download of ${url().replace(/[.?]/g, '\\$&')} ${tail}$`));
    await closed;
    expect(await h.versions()).toEqual([]);
    expect(await h.staging()).toEqual([]);
  }

  it('fails a body dripping below CLICKSTREAM_MIN_BYTES_PER_S once the grace is over, and hangs up', async () => {
    await dripFails(
      { CLICKSTREAM_MIN_BYTES_PER_S: '2000', CLICKSTREAM_MIN_RATE_GRACE_MS: '300' },
      `too slow: \\d+ of ${export1.length} bytes received in \\d+\\.\\d s \\(\\d+ bytes/s\\), under CLICKSTREAM_MIN_BYTES_PER_S 2000 after the 300 ms grace \\(CLICKSTREAM_MIN_RATE_GRACE_MS\\)`,
    );
  });

  it('fails a steady drip at CLICKSTREAM_DOWNLOAD_DEADLINE_MS, which no gap between chunks ever trips', async () => {
    await dripFails(
      { CLICKSTREAM_MIN_BYTES_PER_S: '0', CLICKSTREAM_DOWNLOAD_DEADLINE_MS: '600' },
      `took longer than 600 ms \\(CLICKSTREAM_DOWNLOAD_DEADLINE_MS\\): \\d+ of ${export1.length} bytes received`,
    );
  });

  it('lets a body start slowly within CLICKSTREAM_MIN_RATE_GRACE_MS (and without the grace, the same start fails)', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': export1.length });
      res.flushHeaders();
      setTimeout(() => res.end(export1), 250);
    };
    const env = { CLICKSTREAM_URL_TEMPLATE: template(), CLICKSTREAM_TIMEOUT_MS: '10000', CLICKSTREAM_MIN_BYTES_PER_S: '1000000' };
    expect(await h.run({ env: { ...env, CLICKSTREAM_MIN_RATE_GRACE_MS: '10000' } })).toMatchObject({ status: 'committed', records: 2 });
    const err = await h.runError({ env: { ...env, CLICKSTREAM_MIN_RATE_GRACE_MS: '0' } });
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/ too slow: 0 of \d+ bytes received in /);
  });

  it('fails retryably when the connection drops mid-body', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': export1.length });
      res.write(export1.subarray(0, 10), () => res.socket?.destroy());
    };
    const err = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: template() } });
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(new RegExp(`^reading ${url().replace(/[.?]/g, '\\$&')} failed: `));
    expect(await h.versions()).toEqual([]);
  });

  it('never shows credentials of the URL', async () => {
    const err = await h.runError({ env: { CLICKSTREAM_URL_TEMPLATE: `http://exporter:s3cret-pass@${base.slice(7)}/x/{date}.csv?token=abc123` } });
    expect(err).toBeInstanceOf(NotArrivedError);
    expect(err.message).not.toContain('s3cret-pass');
    expect(err.message).not.toContain('abc123');
    expect(err.message).toBe(`no clickstream export for 2024-05-01 at ${base}/x/2024-05-01.csv?token=%5BREDACTED%5D yet (HTTP 404)`);
  });
});
