/**
 * The platform's product categories. A product in another category is kept
 * (the lake stores what the API said) and counted as `unknownCategory`.
 */
export const KNOWN_CATEGORIES: ReadonlySet<string> = new Set([
  'Electronics',
  'Fashion',
  'Home & Kitchen',
  'Beauty',
  'Sports & Outdoors',
  'Books',
  'Toys & Games',
  'Grocery',
  'Health',
  'Automotive',
  'Pet Supplies',
  'Office',
]);
