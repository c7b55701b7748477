export { mockApiCommand, parseMockApiArgs } from './command.js';
export { startMockProductApi, type MockApiHandle } from './server.js';
export { DEFAULT_OPTIONS, PAGINATION_STYLES, resolveOptions, type MockApiInput, type MockApiOptions, type PaginationStyle, type ParamNames } from './options.js';
export { NAMED_FAULTS, parseFaultRule, parseFaultRules, parseFaultSpec, FaultSpecError, type FaultKind, type FaultRule } from './faults.js';
export { Catalogue, type Product } from './catalogue.js';
export { CATEGORIES } from './taxonomy.js';
export { encodeCursor, decodeCursor } from './pagination.js';
export type { MockApiStats } from './stats.js';
export { WindowLimiter, type WindowLimit } from './window-limiter.js';
