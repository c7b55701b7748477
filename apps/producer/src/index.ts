import type { Command } from '@recomart/command';

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'schedule (not built yet)',
  help: 'Usage: recomart schedule\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart schedule: not built yet\n');
    return 1;
  },
};
export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'enqueue (not built yet)',
  help: 'Usage: recomart enqueue\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart enqueue: not built yet\n');
    return 1;
  },
};
export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'backfill (not built yet)',
  help: 'Usage: recomart backfill\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart backfill: not built yet\n');
    return 1;
  },
};
export const statusCommand: Command = {
  name: 'status',
  summary: 'status (not built yet)',
  help: 'Usage: recomart status\n\nNot built yet.',
  run: async (_argv, io) => {
    io.stderr.write('recomart status: not built yet\n');
    return 1;
  },
};
