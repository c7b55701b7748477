export { runCli, main } from './main.js';
export { COMMANDS, type CommandEntry } from './registry.js';
export { freeLoopbackPort, spawnRedisServer, startPrivateRedisServer, onPath, type StartedRedis } from './commands/private-redis.js';
