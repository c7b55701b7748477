import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** An HTTP server of a fault test on a free loopback port; `close` cuts every connection it still holds. */
export interface LoopbackServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1, a free port, keeping track of its sockets so `close` never waits on a held answer. */
export async function startLoopbackServer(handler: RequestListener): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
