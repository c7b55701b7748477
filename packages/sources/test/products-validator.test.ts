import { describe, expect, it } from 'vitest';
import { ProductValidator } from '@recomart/sources';

const good = { product_id: 'P1', category: 'Books', brand: 'Penguin', price: 12.5, popularity_score: 3.2 };

describe('ProductValidator', () => {
  it('counts nothing for good products; a missing brand is a warning, not a rejection', () => {
    const v = new ProductValidator({});
    v.check([good, { ...good, product_id: 'P2', brand: null }, { ...good, product_id: 'P3', brand: '' }]);
    expect(v.products).toBe(3);
    expect(v.rejected).toBe(0);
    expect(v.counts.missingBrand).toBe(2);
    expect(v.samples.missingBrand).toEqual(['P2', 'P3']);
  });

  it('counts each problem per field and rejects the products that break the contract', () => {
    const v = new ProductValidator({});
    v.check([
      good,
      { ...good }, // duplicate id
      { ...good, product_id: undefined },
      { ...good, product_id: 'P4', price: '12.50 EUR' },
      { ...good, product_id: 'P5', price: -1 },
      { ...good, product_id: 'P6', price: null },
      { ...good, product_id: 'P7', popularity_score: 'high' },
      { ...good, product_id: 'P8', category: 'Gadgets' },
      { ...good, product_id: 'P9', category: undefined, popularity_score: undefined },
      'not a product',
    ]);
    expect(v.counts).toEqual({
      notAnObject: 1,
      missingProductId: 1,
      duplicateProductId: 1,
      missingPrice: 1,
      nonNumericPrice: 1,
      negativePrice: 1,
      nonNumericPopularityScore: 1,
      missingCategory: 1,
      unknownCategory: 1,
      missingBrand: 0,
      missingPopularityScore: 1,
    });
    expect(v.products).toBe(10);
    expect(v.rejected).toBe(7);
    expect(v.samples.duplicateProductId).toEqual(['P1']);
  });

  it('reads fields under the API\'s names through the field map, nested paths too', () => {
    const v = new ProductValidator({ product_id: 'id', price: 'pricing.amount' });
    v.check([{ id: 7, category: 'Books', brand: 'x', pricing: { amount: 3 }, popularity_score: 1 }]);
    expect(v.rejected).toBe(0);
    expect(v.summary()).toMatchObject({ products: 1, rejected: 0, fieldMap: { product_id: 'id', price: 'pricing.amount' } });
  });
});
