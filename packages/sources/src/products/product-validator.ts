import { KNOWN_CATEGORIES } from './categories.js';
import { readField } from './field-path.js';

/** The platform's product fields, read under the API's names through `PRODUCTS_FIELD_MAP`. */
export const PRODUCT_FIELDS = ['product_id', 'category', 'brand', 'price', 'popularity_score'] as const;
export type ProductField = (typeof PRODUCT_FIELDS)[number];

/** Per-field problem counts. Rejections make `rejected`; warnings are legitimate but worth watching. */
export interface ValidationCounts {
  /** Rejected: an item that is not a JSON object. */
  notAnObject: number;
  /** Rejected: no product id (absent, null, empty). */
  missingProductId: number;
  /** Rejected: an id seen earlier in the snapshot. */
  duplicateProductId: number;
  /** Rejected: price absent or null. */
  missingPrice: number;
  /** Rejected: price present but not a finite number (e.g. "19.99 EUR"). */
  nonNumericPrice: number;
  /** Rejected: price below zero. */
  negativePrice: number;
  /** Rejected: popularity score present but not a finite number. */
  nonNumericPopularityScore: number;
  /** Warning: no category. */
  missingCategory: number;
  /** Warning: a category outside the platform's list. */
  unknownCategory: number;
  /** Warning: no brand (generic goods legitimately have none). */
  missingBrand: number;
  /** Warning: no popularity score. */
  missingPopularityScore: number;
}

/** How many offending product ids each count keeps as examples. */
export const SAMPLES_PER_COUNT = 5;

function emptyCounts(): ValidationCounts {
  return {
    notAnObject: 0,
    missingProductId: 0,
    duplicateProductId: 0,
    missingPrice: 0,
    nonNumericPrice: 0,
    negativePrice: 0,
    nonNumericPopularityScore: 0,
    missingCategory: 0,
    unknownCategory: 0,
    missingBrand: 0,
    missingPopularityScore: 0,
  };
}

function absent(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/**
 * Checks every product of a snapshot against the platform's contract and
 * counts what is wrong, field by field. It never changes the data: the lake
 * keeps the pages as received; the counts go into the manifest.
 */
export class ProductValidator {
  readonly counts = emptyCounts();
  readonly samples: Partial<Record<keyof ValidationCounts, string[]>> = {};
  products = 0;
  rejected = 0;
  private readonly ids = new Set<string>();
  private readonly names: Record<ProductField, string>;
  /** Some mapped name is a dotted path (read with `readField`, not a plain property access). */
  private readonly dotted: boolean;

  constructor(fieldMap: Readonly<Record<string, string>>) {
    this.names = Object.fromEntries(PRODUCT_FIELDS.map((f) => [f, fieldMap[f] ?? f])) as Record<ProductField, string>;
    this.dotted = PRODUCT_FIELDS.some((f) => this.names[f].includes('.'));
  }

  /**
   * Checks one page's items. Answers their product ids in order, or
   * undefined when some item has none (the page's identity for the
   * repeated-page guard).
   */
  check(items: readonly unknown[]): string[] | undefined {
    let ids: string[] | undefined = [];
    for (const item of items) {
      const id = this.checkOne(item);
      if (id === undefined) ids = undefined;
      else ids?.push(id);
    }
    return ids;
  }

  private note(key: keyof ValidationCounts, id: string): void {
    this.counts[key] += 1;
    const list = (this.samples[key] ??= []);
    if (list.length < SAMPLES_PER_COUNT) list.push(id);
  }

  /** Checks one item; answers its product id, if it has one. */
  private checkOne(item: unknown): string | undefined {
    this.products += 1;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      this.note('notAnObject', `#${this.products}`);
      this.rejected += 1;
      return undefined;
    }
    const n = this.names;
    const rec = item as Record<string, unknown>;
    // One plain property access per field and call site (each site sees one name, so stays fast); dotted names walk the path.
    const dotted = this.dotted;
    const rawId = dotted ? readField(item, n.product_id) : rec[n.product_id];
    const price = dotted ? readField(item, n.price) : rec[n.price];
    const popularity = dotted ? readField(item, n.popularity_score) : rec[n.popularity_score];
    const category = dotted ? readField(item, n.category) : rec[n.category];
    const brand = dotted ? readField(item, n.brand) : rec[n.brand];
    let rejected = false;
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : '';
    const label = id === '' ? `#${this.products}` : id;
    if (absent(rawId) || id === '') {
      this.note('missingProductId', label);
      rejected = true;
    } else {
      // One lookup: the set does not grow when the id was seen before.
      const seen = this.ids.size;
      this.ids.add(id);
      if (this.ids.size === seen) {
        this.note('duplicateProductId', label);
        rejected = true;
      }
    }
    if (price === undefined || price === null) {
      this.note('missingPrice', label);
      rejected = true;
    } else if (typeof price !== 'number' || !Number.isFinite(price)) {
      this.note('nonNumericPrice', label);
      rejected = true;
    } else if (price < 0) {
      this.note('negativePrice', label);
      rejected = true;
    }
    if (popularity === undefined || popularity === null) this.note('missingPopularityScore', label);
    else if (typeof popularity !== 'number' || !Number.isFinite(popularity)) {
      this.note('nonNumericPopularityScore', label);
      rejected = true;
    }
    if (absent(category)) this.note('missingCategory', label);
    else if (typeof category !== 'string' || !KNOWN_CATEGORIES.has(category)) this.note('unknownCategory', label);
    if (absent(brand)) this.note('missingBrand', label);
    if (rejected) this.rejected += 1;
    return id === '' ? undefined : id;
  }

  /** The manifest's `validation` block. */
  summary(): Record<string, unknown> {
    return {
      products: this.products,
      rejected: this.rejected,
      fields: { ...this.counts },
      samples: Object.fromEntries(Object.entries(this.samples).map(([k, v]) => [k, [...v]])),
      fieldMap: { ...this.names },
    };
  }
}
