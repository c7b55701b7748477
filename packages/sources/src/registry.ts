import type { SourceName } from '@recomart/jobs';
import type { Source } from './source.js';
import { clickstreamSource } from './clickstream/index.js';
import { productsSource } from './products/index.js';

/**
 * Source name → source function. Filled in as the sources land.
 */
export const sourceRegistry: Readonly<Record<SourceName, Source>> = {
  clickstream: clickstreamSource,
  products: productsSource,
};
