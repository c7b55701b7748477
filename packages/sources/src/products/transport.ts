import http from 'node:http';
import https from 'node:https';
import { finished } from 'node:stream';
import fetch, { AbortError, FetchError } from 'node-fetch';
import { ResponseBodyWatch } from '../response-body-watch.js';

/**
 * Largest page body accepted; a bigger one fails the request (and is retried
 * like any malformed body).
 * @defaultValue 64 MiB
 */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/** One redirect followed on the way to an answer: its status and where it sent us. */
export interface RedirectHop {
  status: number;
  /** The URL the redirect named (may carry secrets in its query: show it through publicUrl). */
  to: string;
}

/** One HTTP answer, body read in full. */
export interface HttpAnswer {
  status: number;
  headers: { get(name: string): string | null };
  body: Buffer;
  /** Every redirect followed before this answer, in order (empty when none). */
  redirects: RedirectHop[];
}

/**
 * Redirects followed for one request.
 * @defaultValue 5
 */
export const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Thrown when an answer redirects where the transport will not follow: to
 * another origin (scheme, host and port) than the request's that
 * `allowedRedirectOrigins` does not name, or past MAX_REDIRECTS. Not
 * retryable: the same request would be redirected again. `from` and `to`
 * may carry secrets in their query; show them through publicUrl.
 */
export class RedirectRefusedError extends Error {
  override readonly name = 'RedirectRefusedError';
  constructor(
    readonly reason: 'other-origin' | 'too-many',
    readonly from: string,
    readonly to: string,
    readonly status: number,
    readonly hops: readonly RedirectHop[],
  ) {
    super(reason === 'other-origin' ? `HTTP ${status} redirect to another origin (${new URL(to).origin})` : `more than ${MAX_REDIRECTS} redirects`);
  }
}

/**
 * Thrown when no HTTP answer came: `timeout` (our per-request limit),
 * `network` (refused, reset, cut short), or `aborted` (the job was told to stop).
 */
export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  constructor(
    readonly kind: 'timeout' | 'network' | 'aborted',
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface TransportOptions {
  /** Per-request limit, headers and body together. */
  timeoutMs: number;
  /** Sockets kept per host (the page concurrency). */
  maxSockets: number;
  /** Sent as `Authorization: Bearer …`; never logged. Without it, credentials in the URL go as Basic auth. */
  token: string | undefined;
  /** Largest body accepted. @defaultValue MAX_PAGE_BYTES */
  maxBodyBytes?: number;
  /**
   * Origins other than the request's own that a redirect may lead to
   * (`PRODUCTS_ALLOW_REDIRECTS`); credentials (the bearer token, URL
   * user:password) are never sent to them. @defaultValue none
   */
  allowedRedirectOrigins?: readonly string[];
}

const USER_AGENT = 'recomart-ingest/0.1 (+products source)';

/** node-fetch's "request to <url> failed, reason: x" → "x": the URL is shown elsewhere, without secrets. */
function reasonOf(err: FetchError): string {
  return err.message.replace(/^request to \S+ failed, reason:\s*/, '').replace(/^Invalid response body while trying to fetch \S+:\s*/, 'invalid response body: ');
}

/**
 * Reads a whole response body (node-fetch's `res.body`, a Node stream) into
 * one Buffer, the chunks as received copied once (node-fetch's
 * `arrayBuffer()` iterates the stream asynchronously and copies it twice).
 * Fails as node-fetch would: FetchError `max-size` beyond `maxBytes`,
 * FetchError `system` for a broken body, AbortError once aborted.
 */
function readBody(body: NodeJS.ReadableStream | null, url: string, maxBytes: number): Promise<Buffer> {
  if (body === null) return Promise.resolve(Buffer.alloc(0));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        body.removeListener('data', onData);
        (body as NodeJS.ReadableStream & { destroy(error: Error): void }).destroy(new FetchError(`content size at ${url} over limit: ${maxBytes}`, 'max-size'));
        return;
      }
      chunks.push(chunk);
    };
    body.on('data', onData);
    finished(body, (err) => {
      body.removeListener('data', onData);
      if (!err) {
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      } else if (err instanceof FetchError || err instanceof AbortError) {
        reject(err);
      } else {
        // node-fetch takes the system error's code from it.
        reject(new FetchError(`Invalid response body while trying to fetch ${url}: ${err.message}`, 'system', err));
      }
    });
  });
}

/**
 * `http://user:pass@host/…` → the URL without them and a Basic authorization
 * (fetch refuses URLs with credentials, and the URL is shown in errors).
 */
function splitCredentials(url: string): { href: string; authorization: string | undefined } {
  const u = new URL(url);
  if (!u.username && !u.password) return { href: url, authorization: undefined };
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { href: u.href, authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

/**
 * GET over node-fetch with keep-alive agents: connections are reused across
 * pages, each request has its own timeout, and the caller's signal aborts it.
 * Call `close()` when the snapshot is done so no socket outlives it.
 */
export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' as const };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.headers = { accept: 'application/json', 'user-agent': USER_AGENT };
    if (options.token !== undefined) this.headers.authorization = `Bearer ${options.token}`;
  }

  async get(url: string, signal: AbortSignal): Promise<HttpAnswer> {
    if (signal.aborted) throw new TransportFailure('aborted', 'aborted before the request');
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const { href, authorization } = splitCredentials(url);
    const credentialed = authorization && this.headers.authorization === undefined ? { ...this.headers, authorization } : this.headers;
    const anonymous = { accept: this.headers.accept as string, 'user-agent': USER_AGENT };
    const origin = new URL(href).origin;
    const agentFor = (u: URL) => (u.protocol === 'https:' ? this.httpsAgent : this.httpAgent);
    const redirects: RedirectHop[] = [];
    let current = href;
    let watch: ResponseBodyWatch | undefined;
    try {
      const maxBytes = this.options.maxBodyBytes ?? MAX_PAGE_BYTES;
      for (;;) {
        // Credentials go to the request's own origin only: redirects are followed here, not by node-fetch.
        const headers = new URL(current).origin === origin ? credentialed : anonymous;
        watch = new ResponseBodyWatch(agentFor(new URL(current)), current);
        const res = await fetch(current, { headers, agent: agentFor, signal: controller.signal, size: maxBytes, redirect: 'manual' });
        watch.attach(res.body as unknown as { destroy(error?: Error): unknown });
        const location = res.headers.get('location');
        if (!REDIRECT_STATUSES.has(res.status) || location === null) {
          const body = await readBody(res.body, current, maxBytes);
          return { status: res.status, headers: res.headers, body, redirects };
        }
        // The redirect's own body is read and dropped, so its keep-alive connection is reused.
        await readBody(res.body, current, maxBytes);
        watch.end();
        const next = URL.canParse(location, current) ? new URL(location, current).href : undefined;
        if (next === undefined) throw new TransportFailure('network', `HTTP ${res.status} redirect with an invalid Location`);
        const hop = { status: res.status, to: next };
        if (redirects.length === MAX_REDIRECTS) throw new RedirectRefusedError('too-many', current, next, res.status, [...redirects, hop]);
        const nextOrigin = new URL(next).origin;
        if (nextOrigin !== origin && !(this.options.allowedRedirectOrigins ?? []).includes(nextOrigin)) {
          throw new RedirectRefusedError('other-origin', current, next, res.status, [...redirects, hop]);
        }
        redirects.push(hop);
        current = next;
      }
    } catch (err) {
      if (err instanceof RedirectRefusedError || err instanceof TransportFailure) throw err;
      // A body given up before its end still holds its connection (node-fetch 2 only pipes it): aborting frees it.
      controller.abort();
      if (timedOut) throw new TransportFailure('timeout', `timed out after ${this.options.timeoutMs} ms`, 'ETIMEDOUT');
      if (signal.aborted) throw new TransportFailure('aborted', 'aborted');
      if (err instanceof FetchError) {
        const code = err.code ?? err.type;
        const reason = reasonOf(err);
        throw new TransportFailure('network', code && !reason.includes(code) ? `${code}: ${reason}` : reason, code);
      }
      throw err;
    } finally {
      watch?.end();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Destroys every pooled socket. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
