import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /healthz` (200 when `healthy()` says so, else 503, with the reasons as JSON)
 * and `GET /metrics` (Prometheus text) on 127.0.0.1 by default.
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  healthy: () => Promise<{ ok: boolean; checks: Record<string, unknown> }>;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const url = req.url?.split('?')[0];
    const respond = async () => {
      if (req.method === 'GET' && url === '/healthz') {
        const h = await options.healthy();
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify(h));
      } else if (req.method === 'GET' && url === '/metrics') {
        const body = await options.registry.metrics();
        res.writeHead(200, { 'content-type': options.registry.contentType });
        res.end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
      }
    };
    respond().catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
