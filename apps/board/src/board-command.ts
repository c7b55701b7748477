import { intFlag, parseFlags, stringFlag, type Command, untilAborted } from '@recomart/command';
import { loadConfig } from '@recomart/config';
import { createLogger } from '@recomart/logging';
import { startBoard } from './board-server.js';

const HELP = `Usage: recomart board [--port P]

The operator UI: Bull Board over every ingest queue (job data, progress, logs,
failure reasons; retry, promote, clean, pause…). Every change an operator makes
is written to the audit log with their user name.

Options:
  --port P   port to listen on (default BOARD_PORT, 3000; 0 picks a free one)

Environment:
  BOARD_USER, BOARD_PASSWORD  HTTP basic-auth credentials (required)
  BOARD_HOST                  address to bind (default 127.0.0.1)
  BOARD_AUTH=off              run without auth; allowed only with BOARD_HOST=127.0.0.1
  BOARD_READ_ONLY=true        read-only: the server refuses every change (405)
Requests that change something must come from the board's own pages (CSRF: Origin must match).
`;

export const boardCommand: Command = {
  name: 'board',
  summary: 'the operator UI (Bull Board behind authentication)',
  help: HELP,
  async run(argv, io) {
    const flags = parseFlags('board', argv, { port: { type: 'string' } });
    const port = intFlag('port', stringFlag(flags, 'port'), 0, 65535);
    const config = loadConfig(io.env);
    const logger = createLogger({ app: 'board', level: config.log.level, format: config.log.format, color: config.log.color, secrets: config.secrets });
    const board = await startBoard({ config, logger, ...(port !== undefined ? { port } : {}) });
    io.stderr.write(`recomart board: listening on ${board.url}\n`);
    await untilAborted(io.signal);
    await board.close();
    return 0;
  },
};
