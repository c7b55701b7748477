export { UsageError } from './usage-error.js';
export { parseFlags, intFlag, stringFlag, boolFlag, printJson, type Command, type CommandIo, type OptionsSpec, type ParsedFlags } from './command.js';
export { untilAborted } from './until-aborted.js';
