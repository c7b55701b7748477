import type { Command } from '@recomart/command';

export const lakeCommand: Command = {
  name: 'lake',
  summary: 'lake (not built yet)',
  help: 'Usage: recomart lake\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart lake: not built yet\n');
    return 1;
  },
};
