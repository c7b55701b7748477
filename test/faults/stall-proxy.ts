import type { ServerResponse } from 'node:http';
import { startLoopbackServer } from './loopback-server.js';

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

  const server = await startLoopbackServer((req, res) => {
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
  return {
    url: `http://127.0.0.1:${server.port}${upstream.pathname}`,
    stallNext(times, match) {
      budget = times;
      matcher = match;
    },
    stalled: () => stalled,
    close: () => {
      for (const r of held) r.destroy();
      return server.close();
    },
  };
}
