import { mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '@recomart/jobs';
import { KNOWN_CATEGORIES, PRODUCT_FIELDS, ProductValidator, productIdSpillRoot, SAMPLES_PER_COUNT } from '@recomart/sources';
import { seededRandom } from '../../../test/helpers/seeded-random.js';

/**
 * The validator as it was before spilling (every id in one Set), kept here as
 * the reference the spilling one must match exactly, output included.
 */
class ReferenceValidator {
  readonly counts: Record<string, number> = {
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
  readonly samples: Record<string, string[]> = {};
  products = 0;
  rejected = 0;
  private readonly ids = new Set<string>();

  check(items: readonly unknown[]): string[] | undefined {
    let ids: string[] | undefined = [];
    for (const item of items) {
      const id = this.checkOne(item);
      if (id === undefined) ids = undefined;
      else ids?.push(id);
    }
    return ids;
  }

  private note(key: string, id: string): void {
    this.counts[key] = (this.counts[key] as number) + 1;
    const list = (this.samples[key] ??= []);
    if (list.length < SAMPLES_PER_COUNT) list.push(id);
  }

  private checkOne(item: unknown): string | undefined {
    const absent = (v: unknown): boolean => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
    this.products += 1;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      this.note('notAnObject', `#${this.products}`);
      this.rejected += 1;
      return undefined;
    }
    const rec = item as Record<string, unknown>;
    const { product_id: rawId, price, popularity_score: popularity, category, brand } = rec;
    let rejected = false;
    const id = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : '';
    const label = id === '' ? `#${this.products}` : id;
    if (absent(rawId) || id === '') {
      this.note('missingProductId', label);
      rejected = true;
    } else if (this.ids.has(id)) {
      this.note('duplicateProductId', label);
      rejected = true;
    } else this.ids.add(id);
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

  summary(): Record<string, unknown> {
    return { products: this.products, rejected: this.rejected, fields: { ...this.counts }, samples: this.samples, fieldMap: Object.fromEntries(PRODUCT_FIELDS.map((f) => [f, f])) };
  }
}


/** Ids that must stay distinct (or equal) through the spill: unicode, lone surrogates, separators, 7 vs "7". */
const ODD_IDS = ['é', 'e\u0301', '日本語', '😀', '\ud83d', '\ude00', '\ud800', '\udc00', 'a,b', 'a\nb', 'a\u0000b', '7', ' P1', 'P1 ', '\uffff', '\u{10ffff}', 'x'.repeat(300)];

function randomPages(random: () => number, products: number): unknown[][] {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const pool = Math.max(1, Math.floor(products * (0.2 + random() * 0.8)));
  const categories = [...KNOWN_CATEGORIES];
  const pages: unknown[][] = [];
  let page: unknown[] = [];
  for (let i = 0; i < products; i++) {
    const r = random();
    let item: unknown;
    if (r < 0.02) item = pick(['not a product', 42, null, ['P1']]);
    else {
      const idRoll = random();
      const product_id: unknown =
        idRoll < 0.05 ? pick([undefined, null, '', '   ', true, { id: 1 }]) : idRoll < 0.15 ? pick(ODD_IDS) : idRoll < 0.2 ? 7 : `P${Math.floor(random() * pool)}`;
      const priceRoll = random();
      const price: unknown = priceRoll < 0.1 ? pick([undefined, null, '12.50 EUR', -1, Number.NaN]) : Math.round(random() * 10000) / 100;
      const popRoll = random();
      const popularity_score: unknown = popRoll < 0.1 ? pick([undefined, null, 'high']) : random() * 5;
      const category: unknown = random() < 0.1 ? pick([undefined, '', 'Gadgets', 3]) : pick(categories);
      const brand: unknown = random() < 0.1 ? pick([undefined, null, '']) : 'Brand';
      item = { product_id, price, popularity_score, category, brand };
    }
    page.push(item);
    if (random() < 0.08) {
      pages.push(page);
      page = [];
    }
  }
  pages.push(page, []);
  return pages;
}

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'spill-test-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** What the spill root holds now (the private folders of live validators). */
function spillFolders(dir: string): string[] {
  try {
    return readdirSync(productIdSpillRoot(dir));
  } catch {
    return [];
  }
}

describe('ProductValidator spilling ids to disk', () => {
  it('matches the in-memory reference exactly on seeded random snapshots, many runs and merge passes (seed printed on failure)', async () => {
    const base = Number(process.env.SPILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const cases = process.env.SPILL_SEED === undefined ? 20 : 1;
    for (let c = 0; c < cases; c++) {
      const seed = base + c;
      const random = seededRandom(seed);
      const products = Math.floor(random() * 2000);
      const batchSize = 1 + Math.floor(random() * 60);
      const mergeFanIn = 2 + Math.floor(random() * 6);
      const batchChars = random() < 0.3 ? 50 : undefined;
      const why = `replay with SPILL_SEED=${seed} (products ${products}, batchSize ${batchSize}, mergeFanIn ${mergeFanIn}, batchChars ${batchChars})`;
      const dir = dataDir();
      const v = new ProductValidator({}, { dataDir: dir, batchSize, mergeFanIn, batchChars });
      const ref = new ReferenceValidator();
      for (const page of randomPages(random, products)) expect(v.check(page), why).toEqual(ref.check(page));
      expect(v.products, why).toBe(ref.products);
      await v.finish();
      // Same keys in the same order, same values: the manifest bytes do not change.
      expect(JSON.stringify(v.summary()), why).toBe(JSON.stringify(ref.summary()));
      expect(v.rejected, why).toBe(ref.rejected);
      expect(spillFolders(dir), why).toEqual([]);
    }
  });

  it('finds duplicates across batches: later occurrences rejected once, samples the first in encounter order', async () => {
    const dir = dataDir();
    const v = new ProductValidator({}, { dataDir: dir, batchSize: 2, mergeFanIn: 2 });
    const ok = { category: 'Books', brand: 'b', price: 1, popularity_score: 1 };
    v.check([
      { ...ok, product_id: 'A' },
      { ...ok, product_id: 'B' },
      { ...ok, product_id: 'C' },
      { ...ok, product_id: 'A', price: null }, // duplicate and missing price: rejected once
      { ...ok, product_id: 'D' },
      { ...ok, product_id: 'B' },
      { ...ok, product_id: 'A' },
      { ...ok, product_id: 'E' },
    ]);
    expect(spillFolders(dir)).toHaveLength(1);
    expect(() => v.rejected).toThrow(/before finish/);
    expect(() => v.summary()).toThrow(/before finish/);
    expect(v.rejectedSoFar).toBe(1); // the missing price; the repeats are not known yet
    await v.finish();
    expect(v.counts.duplicateProductId).toBe(3);
    expect(v.counts.missingPrice).toBe(1);
    expect(v.rejected).toBe(3);
    expect(v.samples).toEqual({ duplicateProductId: ['A', 'B', 'A'], missingPrice: ['A'] });
    expect(Object.keys(v.samples)).toEqual(['duplicateProductId', 'missingPrice']);
    expect(spillFolders(dir)).toEqual([]);
    expect(() => v.check([])).toThrow(/after finish/);
  });

  it('a catalogue that fits in one batch never touches disk and reads exactly before finish', async () => {
    const dir = dataDir();
    const v = new ProductValidator({}, { dataDir: dir });
    v.check([{ product_id: 'P1' }, { product_id: 'P1' }]);
    expect(v.rejected).toBe(2);
    expect(v.counts.duplicateProductId).toBe(1);
    await v.finish();
    expect(v.rejected).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('dispose removes the spill folder when the snapshot ends without finish (failure, hand-back)', async () => {
    const dir = dataDir();
    const v = new ProductValidator({}, { dataDir: dir, batchSize: 3 });
    v.check(Array.from({ length: 20 }, (_, i) => ({ product_id: `P${i % 7}` })));
    expect(spillFolders(dir)).toHaveLength(1);
    await v.dispose();
    expect(spillFolders(dir)).toEqual([]);
    await v.dispose(); // idempotent
  });

  it('a spill that cannot be read at finish fails retryably, gives no count, and leaves no folder', async () => {
    const dir = dataDir();
    const v = new ProductValidator({}, { dataDir: dir, batchSize: 3 });
    v.check(Array.from({ length: 20 }, (_, i) => ({ product_id: `P${i % 7}` })));
    const [folder] = spillFolders(dir);
    const runDir = path.join(productIdSpillRoot(dir), folder as string);
    unlinkSync(path.join(runDir, readdirSync(runDir)[0] as string));
    await expect(v.finish()).rejects.toBeInstanceOf(TransientError);
    expect(() => v.rejected).toThrow(/before finish/);
    expect(spillFolders(dir)).toEqual([]);
  });

  it('a spill that cannot be written throws TransientError from check, and again from finish', async () => {
    const dir = dataDir();
    mkdirSync(path.join(dir, 'tmp'));
    writeFileSync(productIdSpillRoot(dir), 'not a folder');
    const v = new ProductValidator({}, { dataDir: dir, batchSize: 2 });
    let thrown: unknown;
    try {
      v.check([{ product_id: 'A' }, { product_id: 'B' }, { product_id: 'C' }]); // C does not fit: the batch spills
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TransientError);
    expect(String(thrown)).toMatch(/spilling product ids/);
    await expect(v.finish()).rejects.toBeInstanceOf(TransientError);
    expect(() => v.summary()).toThrow(/before finish/);
  });

  it('sweeps the folders a dead process of this host left, and keeps other hosts\' and its own live ones', async () => {
    const dir = dataDir();
    const root = productIdSpillRoot(dir);
    const dead = `${hostname()}-99999999-0badf00d`;
    const other = `some-other-host-1-0badf00d`;
    for (const name of [dead, other]) mkdirSync(path.join(root, name, 'x'), { recursive: true });
    const live = new ProductValidator({}, { dataDir: dir, batchSize: 2 });
    live.check([{ product_id: 'A' }, { product_id: 'B' }, { product_id: 'C' }]);
    const [liveFolder] = spillFolders(dir).filter((n) => n !== other);
    const v = new ProductValidator({}, { dataDir: dir, batchSize: 2 });
    v.check([{ product_id: 'A' }, { product_id: 'B' }, { product_id: 'C' }]);
    const now = spillFolders(dir);
    expect(now, JSON.stringify(now)).not.toContain(dead);
    expect(now).toContain(other);
    expect(now).toContain(liveFolder);
    expect(now).toHaveLength(3);
    await Promise.all([live.dispose(), v.dispose()]);
    expect(spillFolders(dir)).toEqual([other]);
  });
});
