export { createProductsSource, productsSource, type ProductsSourceDeps } from './products-source.js';
export { ProductValidator, PRODUCT_FIELDS, productIdSpillRoot, SAMPLES_PER_COUNT, type ProductValidatorOptions, type ValidationCounts } from './product-validator.js';
export { KNOWN_CATEGORIES } from './categories.js';
export { pageFileName } from './page-collector.js';
export type { RequestLogEntry } from './request-log.js';
