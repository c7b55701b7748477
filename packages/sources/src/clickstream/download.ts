import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Readable } from 'node:stream';
import fetch, { FetchError } from 'node-fetch';
import { NotArrivedError, PermanentSourceError, RateLimitedError, TransientError, dateParts } from '@recomart/jobs';
import { fileNameProblem } from '@recomart/lake';
import { parseRetryAfter } from '../products/retry-after.js';
import { publicUrl } from '../products/public-url.js';
import { ResponseBodyWatch } from '../response-body-watch.js';
import { DownloadGuard, type DownloadLimits } from './download-guard.js';
import type { ClickstreamFile } from './file-ingest.js';

const USER_AGENT = 'recomart-ingest/0.1 (+clickstream source)';

/** `CLICKSTREAM_URL_TEMPLATE` with `{date}`, `{yyyy}`, `{mm}`, `{dd}` filled in. */
export function expandUrlTemplate(template: string, date: string): string {
  const { yyyy, mm, dd } = dateParts(date);
  return template.replaceAll('{date}', date).replaceAll('{yyyy}', yyyy).replaceAll('{mm}', mm).replaceAll('{dd}', dd);
}

/** The lake name of a download: the URL's last path segment when it is a storable `*.csv[.gz]`, else `clickstream-<date>.csv[.gz]`. */
export function downloadFileName(url: URL, date: string): string {
  let base = '';
  try {
    base = decodeURIComponent(path.posix.basename(url.pathname));
  } catch {
    /* a malformed escape: use the fallback name */
  }
  if (/\.csv(\.gz)?$/.test(base) && fileNameProblem(base) === undefined) return base;
  return `clickstream-${date}.csv${url.pathname.endsWith('.gz') ? '.gz' : ''}`;
}

/** What the download answered, for the manifest's provenance. */
export interface DownloadProvenance {
  url: string;
  status: number;
  contentLength: number | null;
  etag: string | null;
  lastModified: string | null;
}

/**
 * Starts downloading the day's export (node-fetch, no transparent
 * decompression: the bytes are stored as served). The response headers must
 * come within `limits.idleMs` (and the deadline); then `DownloadGuard` holds
 * the body to the idle limit, the overall deadline and the minimum rate.
 *
 * @throws NotArrivedError on 404/410: the export is not there yet.
 * @throws RateLimitedError on 429 (with its Retry-After), TransientError on 408, 5xx, timeouts and network failures.
 * @throws PermanentSourceError on other 4xx and 3xx loops.
 */
export async function openDownload(
  template: string,
  date: string,
  limits: DownloadLimits,
  secrets: readonly string[],
  signal: AbortSignal,
): Promise<{ file: ClickstreamFile; provenance: DownloadProvenance }> {
  const url = new URL(expandUrlTemplate(template, date));
  const shown = publicUrl(url.href, secrets);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'accept-encoding': 'identity' };
  if (url.username || url.password) {
    headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const startedAt = Date.now();
  const headerWaitMs = Math.min(limits.idleMs, limits.deadlineMs);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, headerWaitMs);
  // Agents of its own, so a body cut short fails this download at once (see ResponseBodyWatch).
  const httpAgent = new http.Agent();
  const httpsAgent = new https.Agent();
  const agent = (u: URL) => (u.protocol === 'https:' ? httpsAgent : httpAgent);
  const watch = new ResponseBodyWatch(agent(url), url.href);
  const release = () => {
    watch.end();
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
  let res;
  try {
    res = await fetch(url.href, { headers, agent, signal: controller.signal, compress: false, follow: 5 });
  } catch (err) {
    release();
    if (timedOut) {
      const limit = limits.deadlineMs < limits.idleMs ? 'CLICKSTREAM_DOWNLOAD_DEADLINE_MS' : 'CLICKSTREAM_TIMEOUT_MS';
      throw new TransientError(`download of ${shown} timed out: no response within ${headerWaitMs} ms (${limit})`);
    }
    if (signal.aborted) throw new TransientError(`download of ${shown} stopped: the job was told to stop`);
    if (err instanceof FetchError && err.type === 'max-redirect') throw new PermanentSourceError(`download of ${shown} failed: more than 5 redirects`);
    throw new TransientError(`download of ${shown} failed: ${err instanceof Error ? err.message.replace(/^request to \S+ failed, reason:\s*/, '') : String(err)}`, {
      cause: err,
    });
  }
  clearTimeout(timer);
  const status = res.status;
  if (status !== 200) {
    res.body?.resume();
    release();
    const what = `${shown} answered HTTP ${status}`;
    if (status === 404 || status === 410) throw new NotArrivedError(`no clickstream export for ${date} at ${shown} yet (HTTP ${status})`);
    if (status === 429) {
      const wait = parseRetryAfter(res.headers.get('retry-after'));
      throw new RateLimitedError(`${what} (rate limited)`, wait === undefined ? undefined : { retryAfterMs: wait });
    }
    if (status === 408 || status >= 500) throw new TransientError(what);
    throw new PermanentSourceError(`${what}; expected 200 with the export`);
  }
  const body = res.body as unknown as Readable;
  watch.attach(body);
  const lengthHeader = res.headers.get('content-length');
  const contentLength = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
  const name = downloadFileName(url, date);
  const guard = new DownloadGuard(shown, limits, startedAt, contentLength, () => controller.abort());
  body.on('error', (err) => guard.destroy(err));
  guard.on('close', release);
  body.pipe(guard);
  const file: ClickstreamFile = {
    name,
    display: shown,
    origin: shown,
    gzip: name.endsWith('.gz'),
    ...(contentLength === null ? {} : { expectedBytes: contentLength }),
    open: () => Promise.resolve(guard),
  };
  return {
    file,
    provenance: { url: shown, status, contentLength, etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') },
  };
}
