export { runCli, main } from './main.js';
export { COMMANDS, type CommandEntry } from './registry.js';
