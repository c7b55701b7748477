import { subscribe } from 'node:diagnostics_channel';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import { finished } from 'node:stream';

/**
 * node-fetch 2 copies each response into its `body` with `pipe`, which does
 * not pass a failure on: when the connection drops in the middle of a body,
 * that body just stops, silent until some timeout. (node-fetch 3 reports it,
 * but runs every response through `stream.pipeline`, which on Node 20 costs
 * ~80 µs of CPU a request: a fifth of a catalogue snapshot's client work.)
 *
 * A `ResponseBodyWatch` closes the gap for one request: Node announces every
 * client request on the `http.client.request.start` diagnostics channel; a
 * request made through a watched agent for a watched path gets a listener on
 * its response, and a response that ends in an error fails the watched body
 * with that error at once.
 */

/** Watches of each agent, by `METHOD path`. */
const watches = new WeakMap<Agent, Map<string, ResponseBodyWatch>>();
let listening = false;

function requestKey(method: string, path: string): string {
  return `${method} ${path}`;
}

function onRequestStart(message: unknown): void {
  const request = (message as { request?: ClientRequest & { agent?: unknown } }).request;
  const agent = request?.agent;
  if (request === undefined || typeof agent !== 'object' || agent === null) return;
  const watch = watches.get(agent as Agent)?.get(requestKey(request.method, request.path));
  if (watch === undefined) return;
  request.once('response', (response: IncomingMessage) => {
    finished(response, (err) => {
      if (err) watch.fail(err);
    });
  });
}

/** Something a failure can be put into (node-fetch's response body). */
interface Destroyable {
  destroy(error?: Error): unknown;
}

/** One request's response body, failed as soon as its response breaks. */
export class ResponseBodyWatch {
  private body: Destroyable | undefined;
  private failure: Error | undefined;
  private ended = false;
  private readonly key: string;

  /**
   * Starts watching the next request of `url` (GET unless `method`) through
   * `agent`. Start it before the request is made; `end()` it once the body
   * was read or given up.
   */
  constructor(
    private readonly agent: Agent,
    url: string,
    method = 'GET',
  ) {
    if (!listening) {
      subscribe('http.client.request.start', onRequestStart);
      listening = true;
    }
    const u = new URL(url);
    this.key = requestKey(method, `${u.pathname}${u.search}`);
    let ofAgent = watches.get(agent);
    if (ofAgent === undefined) {
      ofAgent = new Map();
      watches.set(agent, ofAgent);
    }
    ofAgent.set(this.key, this);
  }

  /** The body to fail when the response breaks (failed at once if it already did). */
  attach(body: Destroyable | null): void {
    if (this.ended || body === null) return;
    this.body = body;
    if (this.failure !== undefined) body.destroy(this.failure);
  }

  /** The response ended in `err`. */
  fail(err: Error): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = err;
    this.body?.destroy(err);
  }

  /** Stops watching (the body was read, or given up). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.body = undefined;
    const ofAgent = watches.get(this.agent);
    if (ofAgent?.get(this.key) === this) ofAgent.delete(this.key);
  }
}
