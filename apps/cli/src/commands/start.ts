import type { Command } from '@recomart/command';

export const startCommand: Command = {
  name: 'start',
  summary: 'start (not built yet)',
  help: 'Usage: recomart start\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart start: not built yet\n');
    return 1;
  },
};
