import type { SourceName } from '@recomart/jobs';
import type { Source, SourceContext } from './source.js';
import { productsSource } from './products/index.js';

/**
 * Source name → source function. Filled in as the sources land.
 */
export const sourceRegistry: Readonly<Record<SourceName, Source>> = {
  clickstream: async (ctx: SourceContext) => {
    throw new Error(`clickstream source not built yet (${ctx.date})`);
  },
  products: productsSource,
};
