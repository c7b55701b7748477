import type { Command } from '@recomart/command';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate (not built yet)',
  help: 'Usage: recomart generate\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart generate: not built yet\n');
    return 1;
  },
};
