import type { Command } from '@recomart/command';

export const mockApiCommand: Command = {
  name: 'mock-api',
  summary: 'mock-api (not built yet)',
  help: 'Usage: recomart mock-api\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart mock-api: not built yet\n');
    return 1;
  },
};
