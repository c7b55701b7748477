export type { Source, SourceContext, SourceLogger, SourceProgress, SourceResult } from './source.js';
export * from './clickstream/index.js';
export * from './products/index.js';
export { sourceRegistry } from './registry.js';
export { recountVersion, type RecountMismatch } from './recount.js';
