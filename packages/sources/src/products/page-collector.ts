import { createHash } from 'node:crypto';
import { PaginationError, SnapshotMismatchError } from '@recomart/jobs';
import type { PageToStore } from '@recomart/lake';
import type { SourceProgress } from '../source.js';
import type { ParsedPage } from './page-body.js';
import type { FetchedPage } from './page-fetcher.js';
import { MemoryRelief } from './memory-relief.js';
import type { ProductValidator } from './product-validator.js';

function headerTotal(headers: FetchedPage['headers']): number | undefined {
  const raw = headers.get('x-total-count');
  return raw !== null && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

/**
 * Pages held in memory by the collector: pages waiting in the reorder buffer
 * for the pages before them, plus pages handed to the writer whose write did
 * not finish. Beyond this, `accept` waits: memory stays bounded (about this
 * many pages, plus one per page in flight) and a slow disk slows the fetching
 * down.
 * @defaultValue 32
 */
export const MAX_PENDING_WRITES = 32;

/** Where the collector stores pages, in page order, one at a time (`SegmentedPagesWriter`). */
export interface PageStore {
  append(page: PageToStore): Promise<void>;
}

/** The pages a collector has (stored, or held to be stored): which a walk must not fetch again. */
export interface StoredPages {
  has(index: number): boolean;
  /** The highest page index it has (0: none). */
  readonly highest: number;
}

/**
 * Receives every fetched page of one snapshot, in any order: refuses a page
 * whose products repeat an earlier page's, checks that the API's total stays
 * put, validates the products, and hands the body as received to the store
 * IN PAGE ORDER. Pages that arrive before the pages ahead of them wait in a
 * bounded reorder buffer; writes run in the background, so fetching never
 * waits on the disk unless MAX_PENDING_WRITES pages are held. `flush` waits
 * for them all.
 *
 * A blocked `accept` cannot deadlock: the page the buffer waits for was taken
 * by a walk's lane before any page held (lanes take pages in order) and is
 * not held itself, so it is still in flight; if its lane fails, the walk
 * calls `release`, which lets every blocked `accept` return (their pages stay
 * held: `held()` gives them for keeping).
 */
export class PageCollector implements StoredPages {
  /** Pages accepted (checked and counted; stored, or held to be stored). */
  pages = 0;
  /** Products in those pages. */
  rows = 0;
  bytes = 0;
  /** The API's catalogue size (body `total` or `X-Total-Count`), once a page told it. */
  apiTotal: number | undefined;
  /** Pages written by the store (for progress). */
  written = 0;
  /** A full garbage collection every RELIEF_EVERY_BYTES of pages stored: flat memory however long the snapshot. */
  private readonly relief = new MemoryRelief();
  /** The lowest and highest page index this attempt fetched and accepted (not replayed); undefined when none. */
  firstFetched: number | undefined;
  lastFetched: number | undefined;
  /** The next page to hand to the store: every page before it is stored or being stored. */
  private next: number;
  private top = 0;
  /** The reorder buffer: pages accepted ahead of `next`. */
  private readonly waiting = new Map<number, PageToStore>();
  /** Repeat guard: 48 bits of each page's identity hash → its page index (an 8-byte number, no string per page). */
  private readonly fingerprints = new Map<number, number>();
  private pendingWrites = 0;
  private writing: Promise<void> = Promise.resolve();
  private writeFailure: { error: unknown } | undefined;
  private released = false;
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly store: PageStore,
    private readonly validator: ProductValidator,
    private readonly progress: (p: SourceProgress) => void,
    /** The first page the store expects (1, or after the pages a resumed attempt's segments hold). */
    firstPage = 1,
  ) {
    this.next = firstPage;
    this.top = firstPage - 1;
  }

  /** The highest page index stored or held. */
  get highest(): number {
    return this.top;
  }

  /** Whether page `index` is stored or held (a walk skips it). */
  has(index: number): boolean {
    return index < this.next || this.waiting.has(index);
  }

  /** The first page neither stored nor held. */
  firstMissing(): number {
    let index = this.next;
    while (this.waiting.has(index)) index++;
    return index;
  }

  /** Checks a page's total and products (validation counts, repeats) before it is stored. */
  private check(index: number, parsed: ParsedPage, total: number | undefined): void {
    const { items } = parsed;
    if (total !== undefined) {
      if (this.apiTotal !== undefined && total !== this.apiTotal) {
        throw new SnapshotMismatchError(`the API's total changed from ${this.apiTotal} to ${total} during the snapshot (page ${index}); not committed`);
      }
      this.apiTotal = total;
    }
    const ids = this.validator.check(items);
    if (items.length > 0) {
      // A page is identified by its products' ids (cheap), or by its whole content when some lack one.
      const identity = ids === undefined ? `c${JSON.stringify(items)}` : `i${ids.join('\u0000')}`;
      // 48 bits of the sha1: two different pages of one snapshot share them with odds ~ pages² / 2^49.
      const fingerprint = createHash('sha1').update(identity).digest().readUIntBE(0, 6);
      const earlier = this.fingerprints.get(fingerprint);
      if (earlier !== undefined) {
        throw new PaginationError(`products page ${index} repeats the products of page ${earlier} (the API is not advancing); snapshot aborted`);
      }
      this.fingerprints.set(fingerprint, index);
    }
  }

  private count(index: number, rows: number, bytes: number): void {
    this.pages += 1;
    this.rows += rows;
    this.bytes += bytes;
    if (index > this.top) this.top = index;
  }

  /**
   * Takes in a page an earlier attempt of the same snapshot stored in a
   * segment (already in the write session, before the store's first page):
   * checked and counted as if fetched now.
   */
  replayStored(index: number, parsed: ParsedPage, bytes: number): void {
    this.check(index, parsed, parsed.total);
    this.count(index, parsed.items.length, bytes);
  }

  /**
   * Takes in a page an earlier attempt fetched but could not store in order
   * (kept loose): checked, counted and held, to be stored in its turn.
   */
  replayLoose(index: number, parsed: ParsedPage, page: PageToStore): void {
    this.check(index, parsed, parsed.total);
    this.count(index, parsed.items.length, page.bytes.byteLength);
    this.waiting.set(index, page);
    this.drain();
  }

  async accept(page: FetchedPage): Promise<void> {
    this.throwWriteFailure();
    if (this.has(page.index)) throw new PaginationError(`products page ${page.index} was fetched twice; snapshot aborted`);
    this.check(page.index, page.parsed, page.parsed.total ?? headerTotal(page.headers));
    const rows = page.parsed.items.length;
    this.count(page.index, rows, page.body.byteLength);
    if (this.firstFetched === undefined || page.index < this.firstFetched) this.firstFetched = page.index;
    if (this.lastFetched === undefined || page.index > this.lastFetched) this.lastFetched = page.index;
    this.waiting.set(page.index, { page: page.index, url: page.shownUrl, status: 200, bytes: page.body });
    this.drain();
    while (!this.released && this.writeFailure === undefined && this.waiting.size + this.pendingWrites >= MAX_PENDING_WRITES) await this.changed();
    this.throwWriteFailure();
  }

  /** Hands every page that is next in order to the store (writes run one after another, in the background). */
  private drain(): void {
    for (let held = this.waiting.get(this.next); held !== undefined; held = this.waiting.get(this.next)) {
      const page = held;
      this.waiting.delete(this.next);
      this.next += 1;
      this.pendingWrites += 1;
      this.writing = this.writing.then(async () => {
        try {
          if (this.writeFailure === undefined) {
            await this.store.append(page);
            this.written += 1;
            this.relief.stored(page.bytes.byteLength);
            this.progress({ pages: this.written, rows: this.rows, bytes: this.bytes, rejected: this.validator.rejectedSoFar });
          }
        } catch (error) {
          this.writeFailure ??= { error };
        } finally {
          this.pendingWrites -= 1;
          this.wake();
        }
      });
    }
  }

  /** Resolves at the next change (a write ended, a failure, a release). */
  private changed(): Promise<void> {
    return new Promise<void>((resolve) => this.wakers.add(resolve));
  }

  private wake(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const w of wakers) w();
  }

  /**
   * The walk stopped (its first failure): every blocked `accept` returns, and
   * no later one blocks. Held pages stay held.
   */
  release(): void {
    this.released = true;
    this.wake();
  }

  /** Waits for every page handed to the store; throws the first write error, or when pages are still held out of order. */
  async flush(): Promise<void> {
    await this.writing;
    this.throwWriteFailure();
    const gap = [...this.waiting.keys()].sort((a, b) => a - b)[0];
    if (gap !== undefined) throw new PaginationError(`products page ${this.next} is missing before page ${gap}; snapshot aborted`);
  }

  /** Waits for every page handed to the store, ignoring failures (before keeping or aborting the session). */
  async settle(): Promise<void> {
    await this.writing;
  }

  /** The pages held out of order (not stored), ascending: what a kept staging keeps loose. */
  held(): PageToStore[] {
    return [...this.waiting.values()].sort((a, b) => a.page - b.page);
  }

  private throwWriteFailure(): void {
    if (this.writeFailure) throw this.writeFailure.error;
  }

  /** Throws SnapshotMismatchError when the products fetched disagree with the API's total. */
  checkTotal(): void {
    if (this.apiTotal !== undefined && this.validator.products !== this.apiTotal) {
      throw new SnapshotMismatchError(`the snapshot has ${this.validator.products} products but the API's total is ${this.apiTotal}; not committed`);
    }
  }
}
