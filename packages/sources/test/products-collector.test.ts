import { describe, expect, it } from 'vitest';
import { PaginationError, SnapshotMismatchError, TransientError } from '@recomart/jobs';
import type { PageToStore } from '@recomart/lake';
import { MAX_PENDING_WRITES, PageCollector, type PageStore } from '../src/products/page-collector.js';
import type { FetchedPage } from '../src/products/page-fetcher.js';
import { ProductValidator } from '../src/products/product-validator.js';

/** An in-memory page store whose writes finish when the test says so. */
class HeldStore implements PageStore {
  readonly stored: PageToStore[] = [];
  readonly waiting: { page: PageToStore; finish: () => void; fail: (e: Error) => void }[] = [];
  append(page: PageToStore): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        page,
        finish: () => {
          this.stored.push(page);
          resolve();
        },
        fail: reject,
      });
    });
  }
  /** Finishes the writes one after another until none is left (a write starts only once the one before ended). */
  async finishAll(): Promise<void> {
    for (;;) {
      await settle();
      const w = this.waiting.shift();
      if (w === undefined) return;
      w.finish();
    }
  }
}

/** Lets promise callbacks and timers queued so far run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Whether `p` is still pending after everything queued ran. */
async function pending(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return !done;
}

function page(index: number, items: unknown[], total?: number): FetchedPage {
  const body = Buffer.from(JSON.stringify({ items, total }));
  return { index, url: `http://x/p?page=${index}`, shownUrl: `http://x/p?page=${index}`, body, headers: new Headers(), parsed: { items, total, nextCursor: undefined } };
}

const product = (n: number) => ({ product_id: `P${n}`, category: 'Books', brand: 'b', price: 1, popularity_score: 1 });

describe('PageCollector', () => {
  it('does not wait for page writes until MAX_PENDING_WRITES pages are held; writes run one at a time, in order; flush waits for all', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    for (let i = 1; i < MAX_PENDING_WRITES; i++) await collector.accept(page(i, [product(i)]));
    await settle();
    expect(store.waiting.map((w) => w.page.page), 'one write at a time').toEqual([1]);
    const last = collector.accept(page(MAX_PENDING_WRITES, [product(MAX_PENDING_WRITES)]));
    expect(await pending(last), 'the bound is reached').toBe(true);
    store.waiting.shift()?.finish();
    await last;
    const flush = collector.flush();
    expect(await pending(flush)).toBe(true);
    await store.finishAll();
    await flush;
    expect(collector.pages).toBe(MAX_PENDING_WRITES);
    expect(collector.rows).toBe(MAX_PENDING_WRITES);
    expect(store.stored.map((p) => p.page)).toEqual(Array.from({ length: MAX_PENDING_WRITES }, (_, i) => i + 1));
    expect(store.stored[0]).toEqual({ page: 1, url: 'http://x/p?page=1', status: 200, bytes: page(1, [product(1)]).body });
  });

  it('stores pages that arrive out of order in page order, holding each until the pages before it came', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    for (const i of [3, 5, 2]) await collector.accept(page(i, [product(i)]));
    await settle();
    expect(store.waiting, 'nothing before page 1').toEqual([]);
    expect(collector.has(3) && collector.has(5) && !collector.has(1) && !collector.has(4)).toBe(true);
    expect(collector.firstMissing()).toBe(1);
    await collector.accept(page(1, [product(1)]));
    await store.finishAll();
    expect(store.stored.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(collector.held().map((p) => p.page), 'page 5 waits for page 4').toEqual([5]);
    expect(collector.firstMissing()).toBe(4);
    await collector.accept(page(4, [product(4)]));
    const flush = collector.flush();
    await store.finishAll();
    await flush;
    expect(store.stored.map((p) => p.page)).toEqual([1, 2, 3, 4, 5]);
    expect(collector.highest).toBe(5);
    expect([collector.firstFetched, collector.lastFetched]).toEqual([1, 5]);
  });

  it('bounds the reorder buffer: with page 1 in flight, pages after it wait at the bound; release (the walk failed) lets them all return, held for keeping', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    for (let i = 2; i <= MAX_PENDING_WRITES; i++) await collector.accept(page(i, [product(i)]));
    const blocked = [collector.accept(page(MAX_PENDING_WRITES + 1, [product(MAX_PENDING_WRITES + 1)])), collector.accept(page(MAX_PENDING_WRITES + 2, [product(MAX_PENDING_WRITES + 2)]))];
    expect(await pending(Promise.race(blocked)), 'over the bound').toBe(true);
    collector.release();
    await Promise.all(blocked);
    await collector.accept(page(MAX_PENDING_WRITES + 3, [product(MAX_PENDING_WRITES + 3)]));
    expect(store.waiting).toEqual([]);
    expect(collector.held().map((p) => p.page)).toEqual(Array.from({ length: MAX_PENDING_WRITES + 2 }, (_, i) => i + 2));
    await expect(collector.flush(), 'a gap is never committed').rejects.toThrow(new PaginationError('products page 1 is missing before page 2; snapshot aborted'));
  });

  it('with page 1 arriving, the waiting pages are stored and the blocked accepts return', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    for (let i = 2; i <= MAX_PENDING_WRITES; i++) await collector.accept(page(i, [product(i)]));
    const blocked = collector.accept(page(MAX_PENDING_WRITES + 1, [product(MAX_PENDING_WRITES + 1)]));
    expect(await pending(blocked)).toBe(true);
    const first = collector.accept(page(1, [product(1)]));
    await store.finishAll();
    await Promise.all([blocked, first]);
    await collector.flush();
    expect(store.stored.map((p) => p.page)).toEqual(Array.from({ length: MAX_PENDING_WRITES + 1 }, (_, i) => i + 1));
  });

  it('a failed page write fails the snapshot at the next page or at flush, and wakes a blocked accept', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    for (let i = 1; i < MAX_PENDING_WRITES; i++) await collector.accept(page(i, [product(i)]));
    const blocked = collector.accept(page(MAX_PENDING_WRITES, [product(MAX_PENDING_WRITES)]));
    expect(await pending(blocked)).toBe(true);
    store.waiting.shift()?.fail(new TransientError('lake: ENOSPC writing pages/segment-0001.bin'));
    await expect(blocked).rejects.toThrow('lake: ENOSPC writing pages/segment-0001.bin');
    await expect(collector.accept(page(MAX_PENDING_WRITES + 1, [product(MAX_PENDING_WRITES + 1)]))).rejects.toThrow('ENOSPC');
    await expect(collector.flush()).rejects.toThrow('ENOSPC');
    expect(store.waiting, 'no write after a failure').toEqual([]);
  });

  it('replays kept pages: segment pages counted, loose pages held and stored in their turn', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined, 3);
    for (const i of [1, 2]) collector.replayStored(i, page(i, [product(i)]).parsed, 10);
    const loose = page(5, [product(5)]);
    collector.replayLoose(5, loose.parsed, { page: 5, url: loose.shownUrl, status: 200, bytes: loose.body });
    expect([collector.pages, collector.firstMissing(), collector.has(2), collector.has(5)]).toEqual([3, 3, true, true]);
    await expect(collector.accept(page(4, [product(1)])), 'the repeat guard knows the kept pages').rejects.toThrow(/repeats the products of page 1/);
    await collector.accept(page(3, [product(3)]));
    await collector.accept(page(4, [product(4)]));
    const flush = collector.flush();
    await store.finishAll();
    await flush;
    expect(store.stored.map((p) => p.page)).toEqual([3, 4, 5]);
    expect([collector.firstFetched, collector.lastFetched]).toEqual([3, 4]);
  });

  it('refuses a page repeating an earlier page, and a total that changes', async () => {
    const store = new HeldStore();
    const collector = new PageCollector(store, new ProductValidator({}), () => undefined);
    await collector.accept(page(1, [product(1)], 3));
    await expect(collector.accept(page(4, [product(1)], 3))).rejects.toThrow(new PaginationError('products page 4 repeats the products of page 1 (the API is not advancing); snapshot aborted'));
    await expect(collector.accept(page(2, [product(2)], 4))).rejects.toThrow(
      new SnapshotMismatchError("the API's total changed from 3 to 4 during the snapshot (page 2); not committed"),
    );
  });
});
