import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpTransport, TransportFailure } from '../src/products/transport.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A server on 127.0.0.1 answering every request with `handler`; resolves with its URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/products`;
}

describe('HttpTransport', () => {
  it('reads a body sent in many chunks byte for byte, and an empty one', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(4096 + i, i));
    const url = await serve((req, res) => {
      if (req.url?.includes('empty')) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      const next = (): void => {
        if (i === parts.length) {
          res.end();
          return;
        }
        res.write(parts[i++], next);
      };
      next();
    });
    const transport = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: undefined });
    try {
      const answer = await transport.get(url, new AbortController().signal);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual(Buffer.concat(parts));
      const empty = await transport.get(`${url}?empty=1`, new AbortController().signal);
      expect(empty.status).toBe(204);
      expect(empty.body.byteLength).toBe(0);
    } finally {
      transport.close();
    }
  });

  it('a connection dropped in the middle of a body is a network failure (retried like a reset)', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100000' });
      res.write('{"items":[', () => res.socket?.destroy());
    });
    const transport = new HttpTransport({ timeoutMs: 5000, maxSockets: 2, token: undefined });
    try {
      const err = await transport.get(url, new AbortController().signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportFailure);
      expect((err as TransportFailure).kind).toBe('network');
      expect((err as TransportFailure).message).not.toContain(url);
    } finally {
      transport.close();
    }
  });

  it('a body over the size limit fails as a network error and frees its connection for the next request', async () => {
    const url = await serve((req, res) => {
      if (req.url?.includes('big')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200000' });
        res.write(Buffer.alloc(100_000, 0x20));
        return; // the rest never comes: only the client can end this exchange
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    });
    // One socket: the second request gets it only if the first one gave it back.
    const transport = new HttpTransport({ timeoutMs: 3000, maxSockets: 1, token: undefined, maxBodyBytes: 1000 });
    try {
      const err = await transport.get(`${url}?big=1`, new AbortController().signal).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportFailure);
      expect((err as TransportFailure).kind).toBe('network');
      expect((err as TransportFailure).message).toContain('over limit: 1000');
      const next = await transport.get(url, new AbortController().signal);
      expect(next.body.toString()).toBe('[]');
    } finally {
      transport.close();
    }
  });

  it('a body that stalls past the timeout is a timeout; the caller\'s abort is an abort', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
    });
    const transport = new HttpTransport({ timeoutMs: 200, maxSockets: 2, token: undefined });
    try {
      const timedOut = await transport.get(url, new AbortController().signal).catch((e: unknown) => e);
      expect(timedOut).toMatchObject({ kind: 'timeout', message: 'timed out after 200 ms' });
      const stop = new AbortController();
      const aborted = transport.get(url, stop.signal).catch((e: unknown) => e);
      setTimeout(() => stop.abort(), 20);
      expect(await aborted).toMatchObject({ kind: 'aborted' });
    } finally {
      transport.close();
    }
  });
});
