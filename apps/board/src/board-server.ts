import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { IServerAdapter } from '@bull-board/api/typings/app';
import { ExpressAdapter } from '@bull-board/express';
import type { Config } from '@recomart/config';
import type { Logger } from '@recomart/logging';
import { AuditEmitter, closeAll, connectGuarded, createIngestQueues, createProducerConnection, redisTarget } from '@recomart/queue';
import express, { type RequestHandler } from 'express';
import { basicAuth } from './basic-auth.js';
import { resolveBoardAccess } from './board-access.js';
import { loopbackHostOnly } from './loopback-host.js';
import { operatorActionHooks } from './operator-actions.js';
import { refuseMutations } from './read-only.js';
import { sameOriginMutations } from './same-origin.js';
import { securityHeaders } from './security-headers.js';

export interface StartBoardOptions {
  config: Config;
  logger: Logger;
  /** Port to listen on; 0 picks a free one. @defaultValue config.board.port (BOARD_PORT, 3000) */
  port?: number;
  /** Address to bind. @defaultValue config.board.host (BOARD_HOST, 127.0.0.1) */
  host?: string;
}

/** A board serving requests. */
export interface RunningBoard {
  /** `http://host:port/`, the UI's address. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, drops open connections and closes the Redis connection. */
  close(): Promise<void>;
}

/**
 * The operator UI: Bull Board over every ingest queue, behind mandatory HTTP
 * basic auth (UI, API and static assets alike), with server-side read-only
 * mode (BOARD_READ_ONLY), CSRF refusal of cross-origin changes, and every
 * operator action written to the audit stream with the user's name.
 *
 * @throws ConfigError when no credentials are configured and the board may not run open
 * @throws RedisUnreachableError when Redis does not answer
 * @throws RedisPolicyError when Redis could evict queue keys
 */
export async function startBoard(options: StartBoardOptions): Promise<RunningBoard> {
  const { config } = options;
  const logger = options.logger.child({ component: 'board' });
  const host = options.host ?? config.board.host;
  const access = resolveBoardAccess(config.board, host);
  const readOnly = config.board.readOnly;

  const conn = createProducerConnection(redisTarget(config), 'recomart-board');
  try {
    await connectGuarded(conn, redisTarget(config), (m) => logger.warn({ event: 'redis-guard' }, m));
  } catch (err) {
    conn.disconnect();
    throw err;
  }
  conn.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error (reconnecting)'));
  const queues = createIngestQueues(conn, config);

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  createBullBoard({
    queues: [...queues.values()].map((q) => new BullMQAdapter(q, { readOnlyMode: readOnly })),
    // @bull-board/express 9.10.1 carries its own copy of @bull-board/api's types (9.10.1);
    // the shapes are the same, only TypeScript's private-member check sets them apart.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    options: {
      uiConfig: { boardTitle: readOnly ? 'RecoMart ingest (read-only)' : 'RecoMart ingest' },
      handlerHooks: operatorActionHooks(
        (event, at) => new AuditEmitter(conn, config.queuePrefix, config.audit.streamMaxLen, () => at).emit(event),
        logger,
      ),
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  if (access.kind === 'open') app.use(loopbackHostOnly());
  app.use(basicAuth(access, logger));
  if (readOnly) app.use(refuseMutations());
  app.use(sameOriginMutations());
  app.use(serverAdapter.getRouter() as RequestHandler);

  const server = app.listen(options.port ?? config.board.port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  logger.info({ event: 'board-listening', url, auth: access.kind, user: access.kind === 'basic' ? access.user : undefined, readOnly }, `board listening on ${url}`);

  return {
    url,
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await closeAll(queues.values());
      conn.disconnect();
    },
  };
}
