import { describe, expect, it } from 'vitest';
import { Catalogue, CATEGORIES } from '@recomart/mock-product-api';

describe('Catalogue', () => {
  it('generates the same product for the same seed and index, every time', () => {
    const a = new Catalogue('42', 1000);
    const b = new Catalogue('42', 1000);
    expect(JSON.stringify(a.slice(0, 50))).toBe(JSON.stringify(b.slice(0, 50)));
    expect(a.product(123)).toEqual(b.product(123));
  });

  it('gives another catalogue for another seed', () => {
    const a = new Catalogue('42', 100).slice(0, 100);
    const b = new Catalogue('43', 100).slice(0, 100);
    const same = a.filter((p, i) => JSON.stringify(p) === JSON.stringify(b[i])).length;
    expect(same).toBeLessThan(5);
  });

  it('serves the end of a million-product catalogue without generating the rest', () => {
    const c = new Catalogue('42', 1_000_000);
    const tail = c.slice(999_998, 10);
    expect(tail.map((p) => p.product_id)).toEqual(['P0999999', 'P1000000']);
  });

  it('has realistic fields: known categories, positive prices, scores within 0..100, some products without a brand', () => {
    const c = new Catalogue('7', 20_000);
    const products = c.slice(0, 20_000);
    const names = new Set(CATEGORIES.map((x) => x.name));
    expect(products.every((p) => names.has(p.category))).toBe(true);
    expect(products.every((p) => p.price > 0 && Number.isFinite(p.price))).toBe(true);
    expect(products.every((p) => p.popularity_score >= 0 && p.popularity_score <= 100)).toBe(true);
    expect(products.every((p) => !Number.isNaN(Date.parse(p.updated_at)))).toBe(true);
    const unbranded = products.filter((p) => p.brand === null).length / products.length;
    expect(unbranded).toBeGreaterThan(0.03);
    expect(unbranded).toBeLessThan(0.12);
    expect(new Set(products.map((p) => p.product_id)).size).toBe(products.length);
  });

  it('has long-tailed prices and popularity: the top 1% far above the median', () => {
    const products = new Catalogue('7', 20_000).slice(0, 20_000);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const prices = sorted(products.map((p) => p.price));
    const pop = sorted(products.map((p) => p.popularity_score));
    const q = (xs: number[], f: number) => xs[Math.floor(xs.length * f)]!;
    expect(q(prices, 0.99)).toBeGreaterThan(5 * q(prices, 0.5));
    expect(q(pop, 0.99)).toBeGreaterThan(10 * q(pop, 0.5));
    expect(new Set(products.map((p) => p.category)).size).toBe(CATEGORIES.length);
  });
});
