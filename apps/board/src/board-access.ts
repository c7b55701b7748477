import { ConfigError, type Config } from '@recomart/config';
import { echoInput } from '@recomart/logging';

/** How the board admits requests: HTTP basic auth with one user, or (loopback only) anyone. */
export type BoardAccess = { readonly kind: 'basic'; readonly user: string; readonly password: string } | { readonly kind: 'open' };

/** Addresses that only this machine can reach. */
const LOOPBACK = new Set(['127.0.0.1', '::1']);

/**
 * Decides how the board authenticates, or refuses to start it. Authentication
 * is mandatory: BOARD_USER and BOARD_PASSWORD, unless BOARD_AUTH=off *and*
 * the board binds to a loopback address.
 *
 * @throws ConfigError with the one-line reason (the CLI exits 2)
 */
export function resolveBoardAccess(board: Config['board'], host: string): BoardAccess {
  if (board.auth === 'off') {
    if (!LOOPBACK.has(host)) {
      throw new ConfigError([`BOARD_AUTH=off is allowed only with BOARD_HOST=127.0.0.1, got ${echoInput(host)}`]);
    }
    return { kind: 'open' };
  }
  if (!board.user || !board.password) {
    throw new ConfigError([
      'the board needs BOARD_USER and BOARD_PASSWORD (HTTP basic auth); to run it without auth on this machine only, set BOARD_AUTH=off and BOARD_HOST=127.0.0.1',
    ]);
  }
  if (board.user.includes(':')) throw new ConfigError(['BOARD_USER must not contain ":" (HTTP basic auth cannot carry it)']);
  return { kind: 'basic', user: board.user, password: board.password };
}
