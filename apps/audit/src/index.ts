import type { Command } from '@recomart/command';

export const auditSinkCommand: Command = {
  name: 'audit-sink',
  summary: 'audit-sink (not built yet)',
  help: 'Usage: recomart audit-sink\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart audit-sink: not built yet\n');
    return 1;
  },
};
export const auditQueryCommand: Command = {
  name: 'audit',
  summary: 'audit (not built yet)',
  help: 'Usage: recomart audit\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart audit: not built yet\n');
    return 1;
  },
};
