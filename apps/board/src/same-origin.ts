import type { RequestHandler } from 'express';

/** Methods that never change anything. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The `host[:port]` of an Origin or Referer value; undefined when it is absent, `null` or not a URL. */
function hostOf(value: string | undefined): string | undefined {
  if (!value || value === 'null') return undefined;
  try {
    return new URL(value).host;
  } catch {
    return undefined;
  }
}

/**
 * CSRF defence: a request that changes something must come from a page of
 * the board itself. Its `Origin` (or, lacking one, `Referer`) must name the
 * host the request was sent to, and a browser's `Sec-Fetch-Site`, when sent,
 * must say `same-origin`. Anything else gets 403.
 */
export function sameOriginMutations(): RequestHandler {
  return (req, res, next) => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const own = req.headers.host;
    const from = hostOf(req.headers.origin) ?? hostOf(req.headers.referer);
    const site = req.headers['sec-fetch-site'];
    if (own !== undefined && from === own && (site === undefined || site === 'same-origin')) {
      next();
      return;
    }
    res.status(403).json({ error: 'cross-origin request refused: changes must come from the board\'s own pages (Origin must match Host)' });
  };
}
