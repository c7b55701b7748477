import type { Command } from '@recomart/command';

export const workerCommand: Command = {
  name: 'worker',
  summary: 'worker (not built yet)',
  help: 'Usage: recomart worker\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart worker: not built yet\n');
    return 1;
  },
};
