import os from 'node:os';
import path from 'node:path';
import { KNOWN_CATEGORIES } from './categories.js';
import { readField } from './field-path.js';
import { IdSpill, type LateDuplicate } from './id-spill.js';

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
 * The order in which `checkOne` notes a product's problems: the manifest's
 * `samples` keys come out in the order each count was first noted, exactly
 * as when every note was made at once.
 */
const NOTE_RANK: Readonly<Record<keyof ValidationCounts, number>> = {
  notAnObject: 0,
  missingProductId: 1,
  duplicateProductId: 2,
  missingPrice: 3,
  nonNumericPrice: 4,
  negativePrice: 5,
  missingPopularityScore: 6,
  nonNumericPopularityScore: 7,
  missingCategory: 8,
  unknownCategory: 9,
  missingBrand: 10,
};

/** How a validator finds repeated ids (defaults fit a worker; tests force spilling). */
export interface ProductValidatorOptions {
  /**
   * The data dir (`DATA_DIR`): ids spill under `<dataDir>/tmp/product-ids/`.
   * Absent: under the OS temp dir (`recomart-product-ids/`).
   */
  dataDir?: string;
  /** Distinct ids held in memory before a batch is spilled. @defaultValue 100_000 */
  batchSize?: number;
  /** Id characters (UTF-16 code units) held in memory before a batch is spilled. @defaultValue 2_500_000 */
  batchChars?: number;
  /** Run files merged at once at `finish`. @defaultValue 64 */
  mergeFanIn?: number;
}

/** Where a validator's spill folders live. */
export function productIdSpillRoot(dataDir: string | undefined): string {
  return dataDir === undefined ? path.join(os.tmpdir(), 'recomart-product-ids') : path.join(dataDir, 'tmp', 'product-ids');
}

/**
 * Checks every product of a snapshot against the platform's contract and
 * counts what is wrong, field by field. It never changes the data: the lake
 * keeps the pages as received; the counts go into the manifest.
 *
 * Repeated product ids are found exactly in bounded memory: the ids of the
 * current batch (`batchSize`) are held in memory, a full batch is sorted and
 * spilled to a private folder under `<DATA_DIR>/tmp/product-ids/`, and
 * `finish()` merges the spilled runs. So once anything has spilled, the
 * duplicate count — and with it `rejected`, `counts`, `samples` and
 * `summary()` — is only known after `await finish()`; reading them before
 * throws. `products` is exact at any time. `rejectedSoFar` (for progress
 * reports) never throws but lags: it misses the duplicates of ids spilled in
 * an earlier batch until `finish`. A catalogue that fits in one batch never
 * touches disk and reads exactly at any time, as before.
 *
 * `finish()` removes the folder; call `dispose()` on every other way out
 * (failure, hand-back). A crashed worker's folders are swept at the next
 * spill on the same host. A spill that cannot be written (disk full) throws
 * TransientError (the job is retried), from `check` or `finish`: never a count.
 */
export class ProductValidator {
  private readonly tally = emptyCounts();
  private readonly sampleLists: Partial<Record<keyof ValidationCounts, string[]>> = {};
  /** The product number of each count's first note (orders `samples`). */
  private readonly firstNoted: Partial<Record<keyof ValidationCounts, number>> = {};
  /** The lowest-numbered duplicates, [product number, label], sorted, at most SAMPLES_PER_COUNT. */
  private readonly duplicateSamples: [number, string][] = [];
  private seen = 0;
  private rejectedKnown = 0;
  private finished: Promise<void> | undefined;
  private resolved = false;
  private readonly ids: IdSpill;
  private readonly names: Record<ProductField, string>;
  /** Some mapped name is a dotted path (read with `readField`, not a plain property access). */
  private readonly dotted: boolean;

  constructor(fieldMap: Readonly<Record<string, string>>, options: ProductValidatorOptions = {}) {
    this.names = Object.fromEntries(PRODUCT_FIELDS.map((f) => [f, fieldMap[f] ?? f])) as Record<ProductField, string>;
    this.dotted = PRODUCT_FIELDS.some((f) => this.names[f].includes('.'));
    this.ids = new IdSpill({ root: productIdSpillRoot(options.dataDir), batchSize: options.batchSize, batchChars: options.batchChars, mergeFanIn: options.mergeFanIn });
  }

  /** Products checked (exact at any time). */
  get products(): number {
    return this.seen;
  }

  /** Products rejected, each once (whatever its reasons). Throws before `finish` once ids have spilled. */
  get rejected(): number {
    this.assertExact('rejected');
    return this.rejectedKnown;
  }

  /** Products rejected so far, for progress: lags behind duplicates of spilled ids until `finish`. */
  get rejectedSoFar(): number {
    return this.rejectedKnown;
  }

  /** Per-field counts. Throws before `finish` once ids have spilled. */
  get counts(): ValidationCounts {
    this.assertExact('counts');
    return { ...this.tally };
  }

  /** The first SAMPLES_PER_COUNT offending ids per count, in encounter order. Throws before `finish` once ids have spilled. */
  get samples(): Partial<Record<keyof ValidationCounts, string[]>> {
    this.assertExact('samples');
    const keys = (Object.keys(this.firstNoted) as (keyof ValidationCounts)[]).sort(
      (a, b) => (this.firstNoted[a] as number) - (this.firstNoted[b] as number) || NOTE_RANK[a] - NOTE_RANK[b],
    );
    const out: Partial<Record<keyof ValidationCounts, string[]>> = {};
    for (const k of keys) out[k] = k === 'duplicateProductId' ? this.duplicateSamples.map(([, label]) => label) : [...(this.sampleLists[k] ?? [])];
    return out;
  }

  /** Whether the counts are final: after `finish`, or while no id has spilled. */
  get exact(): boolean {
    return this.resolved || (this.finished === undefined && !this.ids.spilled);
  }

  private assertExact(what: string): void {
    if (!this.exact) {
      throw new Error(`ProductValidator.${what} read before finish(): product ids were spilled to disk, so duplicates are not counted yet`);
    }
  }

  /**
   * Checks one page's items. Answers their product ids in order, or
   * undefined when some item has none (the page's identity for the
   * repeated-page guard). Throws TransientError when spilling ids fails.
   */
  check(items: readonly unknown[]): string[] | undefined {
    if (this.finished !== undefined) throw new Error('ProductValidator.check after finish()');
    let ids: string[] | undefined = [];
    for (const item of items) {
      const id = this.checkOne(item);
      if (id === undefined) ids = undefined;
      else ids?.push(id);
    }
    return ids;
  }

  /**
   * Finds the duplicates of spilled ids (a streaming merge of the runs) and
   * removes the spill folder; the counts are final after it. Call once all
   * pages are checked, before reading the counts. Idempotent. Throws
   * TransientError when the spill cannot be read.
   */
  finish(): Promise<void> {
    this.finished ??= this.ids.finish((d) => this.lateDuplicate(d)).then(() => {
      this.resolved = true;
    });
    return this.finished;
  }

  /** Removes the spill folder, if any (idempotent, never throws). For every way out that does not `finish`. */
  dispose(): Promise<void> {
    return this.ids.dispose();
  }

  private note(key: keyof ValidationCounts, id: string): void {
    this.tally[key] += 1;
    if (this.firstNoted[key] === undefined) this.firstNoted[key] = this.seen;
    const list = (this.sampleLists[key] ??= []);
    if (list.length < SAMPLES_PER_COUNT) list.push(id);
  }

  /** A repeat found at once (in the current batch): in encounter order, so appended. */
  private noteDuplicate(label: string): void {
    this.tally.duplicateProductId += 1;
    this.addDuplicateSample(this.seen, label);
  }

  /** A repeat of an id spilled earlier, found by `finish` (any order). */
  private lateDuplicate(d: LateDuplicate): void {
    this.tally.duplicateProductId += 1;
    if (!d.alreadyRejected) this.rejectedKnown += 1;
    this.addDuplicateSample(d.seq, d.id);
  }

  private addDuplicateSample(seq: number, label: string): void {
    const s = this.duplicateSamples;
    if (s.length === SAMPLES_PER_COUNT && seq >= (s[s.length - 1] as [number, string])[0]) return;
    let i = s.length;
    while (i > 0 && (s[i - 1] as [number, string])[0] > seq) i--;
    s.splice(i, 0, [seq, label]);
    if (s.length > SAMPLES_PER_COUNT) s.pop();
    const first = this.firstNoted.duplicateProductId;
    if (first === undefined || seq < first) this.firstNoted.duplicateProductId = seq;
  }

  /** Checks one item; answers its product id, if it has one. */
  private checkOne(item: unknown): string | undefined {
    this.seen += 1;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      this.note('notAnObject', `#${this.seen}`);
      this.rejectedKnown += 1;
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
    const label = id === '' ? `#${this.seen}` : id;
    const hasId = !(absent(rawId) || id === '');
    if (!hasId) {
      this.note('missingProductId', label);
      rejected = true;
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
    // Last, with whether the product is already rejected for another reason (a repeat found later counts it once).
    if (hasId && this.ids.add(id, this.seen, rejected)) {
      this.noteDuplicate(label);
      rejected = true;
    }
    if (rejected) this.rejectedKnown += 1;
    return id === '' ? undefined : id;
  }

  /** The manifest's `validation` block. Throws before `finish` once ids have spilled. */
  summary(): Record<string, unknown> {
    this.assertExact('summary()');
    return {
      products: this.seen,
      rejected: this.rejectedKnown,
      fields: this.counts,
      samples: this.samples,
      fieldMap: { ...this.names },
    };
  }
}
