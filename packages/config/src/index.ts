export { loadConfig, ConfigError, describeConfig, redactSecrets, type Config, type S3Settings, type SentinelConfig } from './config.js';
export { variables, type VariableName } from './schema.js';
export type { Variable } from './variables.js';
export type { SentinelAddress } from './sentinel-variables.js';
