import type { Command } from '@recomart/command';

export const boardCommand: Command = {
  name: 'board',
  summary: 'board (not built yet)',
  help: 'Usage: recomart board\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart board: not built yet\n');
    return 1;
  },
};
