import type { RequestHandler } from 'express';
import { SAFE_METHODS } from './same-origin.js';

/**
 * BOARD_READ_ONLY=true, enforced by the server: every request that could
 * change something is answered 405, whatever the UI shows.
 */
export function refuseMutations(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    res.set('Allow', 'GET, HEAD');
    res.status(405).json({ error: 'the board is read-only (BOARD_READ_ONLY=true)' });
  };
}
