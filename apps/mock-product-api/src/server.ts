import { createHash } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Catalogue } from './catalogue.js';
import { FaultPlan, FaultSpecError, parseFaultRules, type FaultRule } from './faults.js';
import { resolveOptions, type MockApiInput, type MockApiOptions } from './options.js';
import { PageCache, type CachedPage } from './page-cache.js';
import { BadRequestError, NO_TWIST, parseWindow, renderPage, type PageTwist, type PageWindow } from './pagination.js';
import { hashSeed, randomFor } from './prng.js';
import { RateLimiter } from './rate-limiter.js';
import { WindowLimiter } from './window-limiter.js';
import { StatsRecorder, type MockApiStats } from './stats.js';

/** A running mock API. */
export interface MockApiHandle {
  /** The products endpoint, e.g. `http://127.0.0.1:40123/products`. */
  readonly url: string;
  /** `http://host:port`, for the control endpoints. */
  readonly origin: string;
  readonly port: number;
  readonly options: MockApiOptions;
  /** What the API has seen so far. */
  stats(): MockApiStats;
  resetStats(): void;
  /** Replaces the fault plan (as `POST /__faults` does) and resets its counters. */
  setFaults(rules: readonly FaultRule[]): void;
  /** Stops listening, drops stalled and delayed requests, closes every connection. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_CONTROL_BODY = 1 << 20;
const HTML_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><p>The upstream catalogue service did not answer.</p></body></html>\n';

/** The `deep-json` fault's body: valid JSON, 100,000 arrays deep. */
const DEEP_JSON = Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url')}"`;
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/**
 * Starts the simulated catalogue API. Resolves once it listens; with port 0
 * the handle tells the port chosen.
 */
export async function startMockProductApi(input: MockApiInput = {}): Promise<MockApiHandle> {
  const options = resolveOptions(input);
  const catalogue = new Catalogue(options.seed, options.products);
  const plan = new FaultPlan(options.faults);
  const stats = new StatsRecorder(Date.now, options.windowLimit?.windowMs);
  const limiter = options.rateLimitPerSecond === undefined ? undefined : new RateLimiter(options.rateLimitPerSecond);
  const windowLimiter = options.windowLimit === undefined ? undefined : new WindowLimiter(options.windowLimit);
  const pages = new PageCache(options.pageCacheBytes);
  const failSeed = hashSeed(`${options.seed}:faults`);
  let failDraws = 0;
  /** Responses held open on purpose (stall, latency), released on close. */
  const held = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  /** When each `/products` request arrived (the stats count an answer in the window of its request). */
  const arrivals = new WeakMap<ServerResponse, number>();

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}, counted = true): void {
    if (counted) stats.outcome(status, arrivals.get(res));
    res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  }

  /** A page as served without faults: from the cache, or rendered, serialized and hashed once. */
  function cleanPage(window: PageWindow, requestUrl: URL): CachedPage {
    // The link style's Link header is built from the request's own URL; the other styles depend on the window alone.
    const key = `${window.offset}:${window.limit}:${window.page}:${window.cursor ?? ''}${options.pagination === 'link' ? `|${requestUrl.href}` : ''}`;
    const cached = pages.get(key);
    if (cached !== undefined) return cached;
    const page = renderPage(options, catalogue, window, NO_TWIST, requestUrl);
    const body = Buffer.from(page.body, 'utf8');
    const fresh: CachedPage = { body, etag: etagOf(body), headers: page.headers };
    pages.set(key, fresh);
    return fresh;
  }

  function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, counted = true): void {
    send(res, status, JSON.stringify({ error: message, status }), headers, counted);
  }

  function later(res: ServerResponse, ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    held.add(res);
    const timer = setTimeout(() => {
      timers.delete(timer);
      held.delete(res);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(timer);
  }

  function randomFault(): FaultRule | undefined {
    if (options.failRatio <= 0) return undefined;
    const random = randomFor(failSeed, failDraws++);
    if (random() >= options.failRatio) return undefined;
    const statuses = ['500', '502', '503'] as const;
    return { fault: statuses[Math.floor(random() * statuses.length)] ?? '500' };
  }

  function respondPage(req: IncomingMessage, res: ServerResponse, window: PageWindow, fault: FaultRule | undefined, requestUrl: URL): void {
    const kind = fault?.fault;
    if (kind !== undefined && /^\d+$/.test(kind)) {
      const status = Number(kind);
      const headers: Record<string, string> = status === 429 ? { 'retry-after': fault?.retryAfter ?? '1' } : {};
      sendError(res, status, fault?.message ?? STATUS_CODES[status] ?? `HTTP ${status}`, headers);
      return;
    }
    switch (kind) {
      case 'reset':
        stats.outcome('reset', arrivals.get(res));
        req.socket.destroy();
        return;
      case 'stall':
        stats.outcome('stalled', arrivals.get(res));
        held.add(res);
        return;
      case 'deep-json':
        stats.outcome(200, arrivals.get(res));
        res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(DEEP_JSON.byteLength) });
        res.end(DEEP_JSON);
        return;
      case 'html':
        stats.outcome(200, arrivals.get(res));
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(HTML_ERROR_PAGE)) });
        res.end(HTML_ERROR_PAGE);
        return;
      default:
        break;
    }
    if (kind === undefined) {
      const page = cleanPage(window, requestUrl);
      if (etagMatches(header(req, 'if-none-match'), page.etag)) {
        stats.outcome(304, arrivals.get(res));
        res.writeHead(304, { etag: page.etag, ...page.headers });
        res.end();
        return;
      }
      stats.outcome(200, arrivals.get(res));
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(page.body.byteLength), etag: page.etag, 'cache-control': 'no-cache', ...page.headers });
      res.end(page.body);
      return;
    }
    const twist: PageTwist =
      kind === 'repeat' || kind === 'wrong-types' || kind === 'short-page'
        ? { repeat: kind === 'repeat', wrongTypes: kind === 'wrong-types', short: kind === 'short-page' }
        : NO_TWIST;
    const page = renderPage(options, catalogue, window, twist, requestUrl);
    if (kind === 'truncate') {
      send(res, 200, page.body.slice(0, Math.floor(page.body.length / 2)), page.headers);
      return;
    }
    const etag = etagOf(page.body);
    if (etagMatches(header(req, 'if-none-match'), etag)) {
      stats.outcome(304, arrivals.get(res));
      res.writeHead(304, { etag, ...page.headers });
      res.end();
      return;
    }
    send(res, 200, page.body, { etag, 'cache-control': 'no-cache', ...page.headers });
  }

  function handleProducts(req: IncomingMessage, res: ServerResponse, requestUrl: URL): void {
    let window: PageWindow | undefined;
    let badRequest: string | undefined;
    try {
      window = parseWindow(options, requestUrl.searchParams);
    } catch (err) {
      if (!(err instanceof BadRequestError)) throw err;
      badRequest = err.message;
    }
    arrivals.set(res, stats.request(window?.page));
    if (options.token !== undefined && header(req, 'authorization') !== `Bearer ${options.token}`) {
      sendError(res, 401, 'missing or invalid bearer token', { 'www-authenticate': 'Bearer realm="products"' });
      return;
    }
    if (window === undefined) {
      sendError(res, 400, badRequest ?? 'bad request');
      return;
    }
    if (windowLimiter) {
      // Per client: its token when it sends one, else its address.
      const admitted = windowLimiter.admit(header(req, 'authorization') ?? req.socket.remoteAddress ?? '');
      for (const [name, value] of Object.entries(admitted.headers)) res.setHeader(name, value);
      if (!admitted.ok) {
        const { limit, windowMs } = windowLimiter.rule;
        sendError(res, 429, `rate limit of ${limit} requests per ${windowMs} ms exceeded`);
        return;
      }
    }
    if (limiter) {
      const admitted = limiter.admit();
      if (!admitted.ok) {
        sendError(res, 429, `rate limit of ${limiter.perSecond} requests per second exceeded`, { 'retry-after': String(admitted.retryAfterSeconds) });
        return;
      }
    }
    let fault: FaultRule | undefined;
    try {
      fault = plan.take(window.page, { fault: header(req, 'x-mock-fault'), times: header(req, 'x-mock-fault-times'), retryAfter: header(req, 'x-mock-retry-after') }) ?? randomFault();
    } catch (err) {
      if (!(err instanceof FaultSpecError)) throw err;
      sendError(res, 400, err.message);
      return;
    }
    const extraLatency = Number(header(req, 'x-mock-latency-ms') ?? '0');
    const latency = options.latencyMs + (Number.isFinite(extraLatency) && extraLatency > 0 ? extraLatency : 0);
    const page = window;
    later(res, latency, () => respondPage(req, res, page, fault, requestUrl));
  }

  function handleControl(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === '/__stats' && req.method === 'GET') {
      send(res, 200, JSON.stringify(stats.snapshot()), {}, false);
      return;
    }
    if (path === '/__faults' && req.method === 'GET') {
      send(res, 200, JSON.stringify(plan.describe()), {}, false);
      return;
    }
    if (path === '/__faults' && req.method === 'DELETE') {
      plan.set([]);
      send(res, 200, JSON.stringify({ faults: 0 }), {}, false);
      return;
    }
    if (path === '/__faults' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_CONTROL_BODY) req.destroy();
        else chunks.push(chunk);
      });
      req.on('end', () => {
        try {
          const rules = parseFaultRules(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          plan.set(rules);
          send(res, 200, JSON.stringify({ faults: rules.length }), {}, false);
        } catch (err) {
          sendError(res, 400, err instanceof Error ? err.message : String(err), {}, false);
        }
      });
      return;
    }
    sendError(res, 404, `no route ${req.method ?? 'GET'} ${path}`, {}, false);
  }

  const server = createServer((req, res) => {
    const requestUrl = new URL(req.url ?? '/', `http://${header(req, 'host') ?? `${options.host}:${options.port}`}`);
    const path = requestUrl.pathname;
    if (path === '/healthz' && req.method === 'GET') {
      send(res, 200, JSON.stringify({ status: 'ok', products: options.products, pagination: options.pagination }), {}, false);
      return;
    }
    if (path === '/products') {
      if (req.method !== 'GET') {
        sendError(res, 405, `method ${req.method ?? ''} not allowed on /products`, { allow: 'GET' }, false);
        return;
      }
      handleProducts(req, res, requestUrl);
      return;
    }
    handleControl(req, res, path);
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const origin = `http://${hostForUrl}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/products`,
    origin,
    port,
    options,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setFaults: (rules) => plan.set(rules),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        for (const res of held) res.destroy();
        held.clear();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
