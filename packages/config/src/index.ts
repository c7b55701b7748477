export { loadConfig, ConfigError, describeConfig, redactSecrets, type Config } from './config.js';
export { variables, type VariableName } from './schema.js';
export type { Variable } from './variables.js';
