import { ConfigError, loadConfig } from '@recomart/config';
import { describe, expect, it } from 'vitest';
import { resolveBoardAccess } from '../src/board-access.js';

const board = (env: Record<string, string>) => loadConfig(env).board;

describe('resolveBoardAccess', () => {
  it('uses basic auth when BOARD_USER and BOARD_PASSWORD are set', () => {
    expect(resolveBoardAccess(board({ BOARD_USER: 'alice', BOARD_PASSWORD: 'pw-123456' }), '0.0.0.0')).toEqual({
      kind: 'basic',
      user: 'alice',
      password: 'pw-123456',
    });
  });

  it('refuses to start without credentials', () => {
    const incomplete: Record<string, string>[] = [{}, { BOARD_USER: 'alice' }, { BOARD_PASSWORD: 'pw-123456' }];
    for (const env of incomplete) {
      expect(() => resolveBoardAccess(board(env), '127.0.0.1')).toThrow(ConfigError);
    }
    expect(() => resolveBoardAccess(board({}), '127.0.0.1')).toThrow(
      'the board needs BOARD_USER and BOARD_PASSWORD (HTTP basic auth); to run it without auth on this machine only, set BOARD_AUTH=off and BOARD_HOST=127.0.0.1',
    );
  });

  it('runs open only with BOARD_AUTH=off on a loopback address', () => {
    expect(resolveBoardAccess(board({ BOARD_AUTH: 'off' }), '127.0.0.1')).toEqual({ kind: 'open' });
    expect(() => resolveBoardAccess(board({ BOARD_AUTH: 'off' }), '0.0.0.0')).toThrow(
      'BOARD_AUTH=off is allowed only with BOARD_HOST=127.0.0.1, got "0.0.0.0"',
    );
  });

  it('refuses a user name basic auth cannot carry', () => {
    expect(() => resolveBoardAccess(board({ BOARD_USER: 'a:b', BOARD_PASSWORD: 'pw-123456' }), '127.0.0.1')).toThrow(
      'BOARD_USER must not contain ":" (HTTP basic auth cannot carry it)',
    );
  });
});
