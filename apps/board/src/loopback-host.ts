import type { RequestHandler } from 'express';

/** Host names that can only mean this machine. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * On a board running without auth (BOARD_AUTH=off, loopback only), refuses
 * requests whose `Host` is not a loopback name: a web page cannot reach the
 * board through a DNS name re-pointed at 127.0.0.1 (DNS rebinding).
 */
export function loopbackHostOnly(): RequestHandler {
  return (req, res, next) => {
    const host = req.headers.host ?? '';
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (name !== undefined && LOOPBACK_NAMES.has(name.toLowerCase())) {
      next();
      return;
    }
    res.status(421).type('text/plain').send('this board answers only to 127.0.0.1, localhost or [::1]\n');
  };
}
