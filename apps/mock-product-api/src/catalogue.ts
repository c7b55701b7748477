import { hashSeed, normal, randomFor, weightedIndex } from './prng.js';
import { CATEGORIES, UNBRANDED_SHARE, type CategorySpec } from './taxonomy.js';

/** One product as the mock API serves it (before any field renaming). */
export interface Product {
  product_id: string;
  category: string;
  brand: string | null;
  price: number;
  popularity_score: number;
  updated_at: string;
}

const CATEGORY_WEIGHTS = CATEGORIES.map((c) => c.weight);
const CATEGORY_TOTAL = CATEGORY_WEIGHTS.reduce((a, b) => a + b, 0);

/** Zipf weights (1/rank) per category's brand list, computed once. */
const BRAND_WEIGHTS = new Map<CategorySpec, { weights: number[]; total: number }>(
  CATEGORIES.map((c) => {
    const weights = c.brands.map((_, rank) => 1 / (rank + 1));
    return [c, { weights, total: weights.reduce((a, b) => a + b, 0) }];
  }),
);

/** `updated_at` values fall in the year before this instant: fixed, so bodies never change between runs. */
const UPDATED_EPOCH_MS = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Pareto shape of the popularity score: smaller is a longer tail. */
const POPULARITY_ALPHA = 1.16;

/**
 * A deterministic catalogue of `size` products: product `i` depends only on
 * (seed, i), so pages are generated lazily and a million products cost no
 * memory.
 */
export class Catalogue {
  private readonly seedHash: number;

  constructor(
    readonly seed: string,
    readonly size: number,
  ) {
    this.seedHash = hashSeed(seed);
  }

  /** The product at 0-based `index` (< size). */
  product(index: number): Product {
    const random = randomFor(this.seedHash, index);
    const category = CATEGORIES[weightedIndex(random, CATEGORY_WEIGHTS, CATEGORY_TOTAL)] ?? CATEGORIES[0]!;
    const brandWeights = BRAND_WEIGHTS.get(category)!;
    const brandDraw = weightedIndex(random, brandWeights.weights, brandWeights.total);
    const brand = random() < UNBRANDED_SHARE ? null : (category.brands[brandDraw] ?? null);
    const price = Math.max(0.5, Math.round(category.medianPrice * Math.exp(category.priceSigma * normal(random)) * 100) / 100);
    const pareto = 1 / Math.pow(1 - random(), 1 / POPULARITY_ALPHA);
    const popularity = Math.min(100, Math.round(pareto * 100) / 100);
    const updatedAt = new Date(UPDATED_EPOCH_MS - Math.floor(random() * YEAR_MS / 1000) * 1000).toISOString();
    return {
      product_id: `P${String(index + 1).padStart(7, '0')}`,
      category: category.name,
      brand,
      price,
      popularity_score: popularity,
      updated_at: updatedAt,
    };
  }

  /** Products `[offset, offset + limit)`, clipped to the catalogue. */
  slice(offset: number, limit: number): Product[] {
    const end = Math.min(this.size, offset + limit);
    const out: Product[] = [];
    for (let i = offset; i < end; i++) out.push(this.product(i));
    return out;
  }
}
