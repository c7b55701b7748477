export { createProductsSource, productsSource, type ProductsSourceDeps } from './products-source.js';
export { ProductValidator, PRODUCT_FIELDS, productIdSpillRoot, SAMPLES_PER_COUNT, type ProductValidatorOptions, type ValidationCounts } from './product-validator.js';
export { KNOWN_CATEGORIES } from './categories.js';
export { readRequestLog, REQUEST_LOG_FILE, type RequestLogEntry, type RequestSummary } from './request-log.js';
