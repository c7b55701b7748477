export { createProductsSource, productsSource, type ProductsSourceDeps } from './products-source.js';
export { ProductValidator, PRODUCT_FIELDS, type ValidationCounts } from './product-validator.js';
export { KNOWN_CATEGORIES } from './categories.js';
export { pageFileName } from './page-collector.js';
export type { RequestLogEntry } from './request-log.js';
