import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@recomart/logging';
import type { RequestHandler } from 'express';
import type { BoardAccess } from './board-access.js';
import { rememberOperator } from './operator-identity.js';

/** The realm browsers show in their login prompt. */
const REALM = 'RecoMart board';

/** `Basic dXNlcjpwYXNz` → `{ user, password }`; undefined for anything else. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Compares in constant time: both sides are hashed to equal-length digests,
 * and the user and the password are both always compared.
 */
export function credentialsMatch(given: { user: string; password: string }, expected: { user: string; password: string }): boolean {
  const userOk = timingSafeEqual(digest(given.user), digest(expected.user));
  const passwordOk = timingSafeEqual(digest(given.password), digest(expected.password));
  return userOk && passwordOk;
}

/**
 * Admits a request only with the board's basic-auth credentials (every path
 * behind it: UI, API and static assets), and records who the operator is.
 * On a board with BOARD_AUTH=off (loopback only) everyone is `anonymous`.
 * Rejections are logged with the user name given, never the password.
 */
export function basicAuth(access: BoardAccess, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (access.kind === 'open') {
      rememberOperator(req.headers, { operator: 'anonymous', receivedAt: new Date() });
      next();
      return;
    }
    const given = parseBasicAuth(req.headers.authorization);
    if (given && credentialsMatch(given, access)) {
      rememberOperator(req.headers, { operator: given.user, receivedAt: new Date() });
      next();
      return;
    }
    if (given) logger.warn({ event: 'board-auth-failed', user: given.user, ip: req.ip, path: req.path }, 'board login refused');
    res.set('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
    res.status(401).type('text/plain').send('authentication required\n');
  };
}
