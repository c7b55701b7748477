import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A loopback proxy in front of an API that can stall answers in the middle of their body. */
export interface StallProxy {
  /** The proxied URL of `upstreamUrl`'s path, e.g. `http://127.0.0.1:4321/products`. */
  readonly url: string;
  /**
   * The next `times` requests whose URL matches `match` get the upstream's
   * status, headers and the first half of its body, and then nothing more.
   */
  stallNext(times: number, match: (url: URL) => boolean): void;
  /** Requests stalled so far. */
  stalled(): number;
  close(): Promise<void>;
}

/** Starts a proxy to `upstreamUrl` (loopback only) on a free port. */
export async function startStallProxy(upstreamUrl: string): Promise<StallProxy> {
  const upstream = new URL(upstreamUrl);
  let budget = 0;
  let matcher: (url: URL) => boolean = () => false;
  let stalled = 0;
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstream.origin);
    const stall = budget > 0 && matcher(target);
    if (stall) budget -= 1;
    fetch(target, { headers: { accept: req.headers.accept ?? '*/*' } })
      .then(async (answer) => {
        const body = Buffer.from(await answer.arrayBuffer());
        const headers: Record<string, string> = {};
        answer.headers.forEach((v, k) => {
          if (k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive') headers[k] = v;
        });
        headers['content-length'] = String(body.length);
        res.writeHead(answer.status, headers);
        if (!stall) {
          res.end(body);
          return;
        }
        stalled += 1;
        held.add(res);
        res.write(body.subarray(0, Math.floor(body.length / 2)));
      })
      .catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    stallNext(times, match) {
      budget = times;
      matcher = match;
    },
    stalled: () => stalled,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of held) r.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
