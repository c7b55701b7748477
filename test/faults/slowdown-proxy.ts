import { request } from 'node:http';
import { startLoopbackServer } from './loopback-server.js';

/**
 * A loopback HTTP proxy in front of the real S3 server that answers
 * `503 SlowDown` (the S3 throttling answer, with its XML body) to the next
 * `times` requests and passes every other request through untouched (the
 * Host header too, so signatures still verify). Ceph RGW does not throttle a
 * single client, so this is how the tests meet a real SlowDown.
 */
export interface SlowDownProxy {
  /** `http://127.0.0.1:<port>`: use as the S3 endpoint. */
  readonly endpoint: string;
  slowDownNext(times: number): void;
  /** 503s answered so far, and requests passed through. */
  counts(): { slowedDown: number; passed: number };
  close(): Promise<void>;
}

const SLOW_DOWN_BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>proxy</RequestId></Error>';

export async function startSlowDownProxy(upstreamEndpoint: string): Promise<SlowDownProxy> {
  const upstream = new URL(upstreamEndpoint);
  let budget = 0;
  let slowedDown = 0;
  let passed = 0;
  const server = await startLoopbackServer((req, res) => {
    if (budget > 0) {
      budget -= 1;
      slowedDown += 1;
      req.resume();
      req.once('end', () => {
        res.writeHead(503, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(SLOW_DOWN_BODY)) });
        res.end(SLOW_DOWN_BODY);
      });
      return;
    }
    passed += 1;
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', (err) => res.destroy(err));
    req.pipe(out);
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    slowDownNext(times) {
      budget = times;
    },
    counts: () => ({ slowedDown, passed }),
    close: () => server.close(),
  };
}
