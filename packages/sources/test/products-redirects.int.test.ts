import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport, RedirectRefusedError } from '../src/products/transport.js';
import { readRequestLog } from '@recomart/sources';
import { DATE, productsHarness, type ProductsHarness } from './products-harness.js';

// Finding 8 of issue 12: the API token followed a 302 to another origin.
const TOKEN = 'tok-redirect-5a4b3c2d';
const open: ProductsHarness[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
}

/** A server on 127.0.0.1 (its own origin) recording every request; `answer` writes the response. */
async function serve(answer: (path: string, res: import('node:http').ServerResponse) => void): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    answer(req.url ?? '/', res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Redirects every request to the same path and query at `target`. */
function redirectTo(target: () => string, status = 302) {
  return (path: string, res: import('node:http').ServerResponse) => {
    res.writeHead(status, { location: `${target()}${path}` }).end('moved');
  };
}

describe('HttpTransport redirects', () => {
  it('follows a redirect within the origin with the token, recording the hop', async () => {
    const site = await serve((path, res) => {
      if (path.startsWith('/old')) res.writeHead(301, { location: path.replace('/old', '/new') }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
    });
    const transport = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: TOKEN });
    try {
      const answer = await transport.get(`${site.origin}/old/products?offset=0`, new AbortController().signal);
      expect(answer.status).toBe(200);
      expect(answer.redirects).toEqual([{ status: 301, to: `${site.origin}/new/products?offset=0` }]);
      expect(site.seen.map((s) => [s.url, s.headers.authorization])).toEqual([
        ['/old/products?offset=0', `Bearer ${TOKEN}`],
        ['/new/products?offset=0', `Bearer ${TOKEN}`],
      ]);
    } finally {
      transport.close();
    }
  });

  it('refuses a redirect to another origin: nothing is sent there', async () => {
    const elsewhere = await serve((_path, res) => res.writeHead(200).end('{"items":[]}'));
    const api = await serve(redirectTo(() => elsewhere.origin));
    const transport = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: TOKEN });
    try {
      const err = await transport.get(`${api.origin}/products`, new AbortController().signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedirectRefusedError);
      expect((err as RedirectRefusedError).hops).toEqual([{ status: 302, to: `${elsewhere.origin}/products` }]);
      expect(elsewhere.seen).toEqual([]);
    } finally {
      transport.close();
    }
  });

  it('follows a redirect to an allowed origin without credentials, and stops after five redirects', async () => {
    const elsewhere = await serve((_path, res) => res.writeHead(200).end('{"items":[]}'));
    const api = await serve(redirectTo(() => elsewhere.origin, 307));
    const transport = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: TOKEN, allowedRedirectOrigins: [elsewhere.origin] });
    try {
      const answer = await transport.get(`http://user:pw-basic@${api.origin.slice('http://'.length)}/products`, new AbortController().signal);
      expect(answer.status).toBe(200);
      expect(api.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(elsewhere.seen).toHaveLength(1);
      expect(elsewhere.seen[0]?.headers.authorization).toBeUndefined();
    } finally {
      transport.close();
    }
    const loop = await serve((path, res) => res.writeHead(302, { location: path }).end());
    const looping = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: undefined });
    try {
      const err = await looping.get(`${loop.origin}/products`, new AbortController().signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedirectRefusedError);
      expect((err as RedirectRefusedError).reason).toBe('too-many');
      expect(loop.seen).toHaveLength(6);
    } finally {
      looping.close();
    }
  });
});

describe('products source: a redirect to another origin', () => {
  it('fails for good, naming both ends and PRODUCTS_ALLOW_REDIRECTS, with nothing sent there and nothing committed', async () => {
    const h = await productsHarness({ token: TOKEN });
    open.push(h);
    const api = await serve(redirectTo(() => h.api.origin));
    const err = await h.run({ env: { PRODUCTS_API_URL: `${api.origin}/products`, PRODUCTS_API_TOKEN: TOKEN } }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('PermanentSourceError');
    expect((err as Error).message).toBe(
      `products page 1: ${api.origin}/products?offset=0&limit=10 answered HTTP 302 redirecting to another origin, ${h.api.origin}/products?offset=0&limit=10; not followed (the API token is only ever sent to the API's own origin): add ${h.api.origin} to PRODUCTS_ALLOW_REDIRECTS to follow it without credentials`,
    );
    expect(h.api.stats().requests).toBe(0);
    expect(await h.versions()).toEqual([]);
  });

  it('named in PRODUCTS_ALLOW_REDIRECTS: followed without the token, every hop in the manifest request log', async () => {
    const h = await productsHarness();
    open.push(h);
    const api = await serve(redirectTo(() => h.api.origin));
    const env = { PRODUCTS_API_URL: `${api.origin}/products`, PRODUCTS_API_TOKEN: TOKEN, PRODUCTS_ALLOW_REDIRECTS: h.api.origin };
    expect(await h.run({ env })).toMatchObject({ status: 'committed', records: 25 });
    const requests = await readRequestLog(h.lake, 'products', DATE, 1);
    expect(requests).toHaveLength(3);
    for (const r of requests) {
      const query = r.url.slice(r.url.indexOf('?'));
      expect(r).toMatchObject({ url: `${api.origin}/products${query}`, status: 200, redirects: [{ status: 302, to: `${h.api.origin}/products${query}` }] });
    }
    // The API behind the redirect wants the token; it never gets it.
    const guarded = await productsHarness({ token: TOKEN });
    open.push(guarded);
    const front = await serve(redirectTo(() => guarded.api.origin));
    const err = await guarded.run({ env: { PRODUCTS_API_URL: `${front.origin}/products`, PRODUCTS_API_TOKEN: TOKEN, PRODUCTS_ALLOW_REDIRECTS: guarded.api.origin } }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('HTTP 401');
  });
});
