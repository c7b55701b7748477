import { createHash } from 'node:crypto';
import { PaginationError, SnapshotMismatchError } from '@recomart/jobs';
import type { WriteSession } from '@recomart/lake';
import type { SourceProgress } from '../source.js';
import type { ParsedPage } from './page-body.js';
import type { FetchedPage } from './page-fetcher.js';
import type { ProductValidator } from './product-validator.js';

/** `pages/000001.json`: one file per page, named by its 1-based index. */
export function pageFileName(index: number): string {
  return `pages/${String(index).padStart(6, '0')}.json`;
}

/** The page index of a `pageFileName`, or undefined for another name. */
export function pageIndexOf(name: string): number | undefined {
  const m = /^pages\/(\d{6,})\.json$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

function headerTotal(headers: FetchedPage['headers']): number | undefined {
  const raw = headers.get('x-total-count');
  return raw !== null && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
}

/**
 * Pages whose lake write (which ends with an fsync) may still be running
 * while the next pages are fetched. Beyond this, `accept` waits: memory stays
 * bounded and a slow disk slows the fetching down.
 * @defaultValue 32
 */
export const MAX_PENDING_WRITES = 32;

/**
 * Receives every fetched page of one snapshot, in any order: refuses a page
 * whose products repeat an earlier page's, checks that the API's total stays
 * put, validates the products, and writes the body as received into the
 * write session. Writes run in the background (up to MAX_PENDING_WRITES), so
 * fetching never waits on the disk's fsync; `flush` waits for them all.
 */
export class PageCollector {
  /** Pages written (their write finished). */
  pages = 0;
  /** Products in the pages written. */
  rows = 0;
  bytes = 0;
  /** The API's catalogue size (body `total` or `X-Total-Count`), once a page told it. */
  apiTotal: number | undefined;
  /** Indices of the pages stored (written, or replayed from an earlier attempt). */
  readonly stored = new Set<number>();
  private readonly fingerprints = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private writeFailure: { error: unknown } | undefined;

  constructor(
    private readonly session: WriteSession,
    private readonly validator: ProductValidator,
    private readonly progress: (p: SourceProgress) => void,
  ) {}

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
      const fingerprint = createHash('sha1').update(identity).digest('base64');
      const earlier = this.fingerprints.get(fingerprint);
      if (earlier !== undefined) {
        throw new PaginationError(`products page ${index} repeats the products of page ${earlier} (the API is not advancing); snapshot aborted`);
      }
      this.fingerprints.set(fingerprint, index);
    }
  }

  /**
   * Takes in a page an earlier attempt of the same snapshot stored (already
   * in the write session): checked and counted as if fetched now.
   */
  replay(index: number, parsed: ParsedPage, bytes: number): void {
    this.check(index, parsed, parsed.total);
    this.stored.add(index);
    this.pages += 1;
    this.rows += parsed.items.length;
    this.bytes += bytes;
  }

  async accept(page: FetchedPage): Promise<void> {
    this.throwWriteFailure();
    this.check(page.index, page.parsed, page.parsed.total ?? headerTotal(page.headers));
    const rows = page.parsed.items.length;
    const write: Promise<void> = this.session.writeFile(pageFileName(page.index), page.shownUrl, page.body).then(
      () => {
        this.stored.add(page.index);
        this.pages += 1;
        this.rows += rows;
        this.bytes += page.body.byteLength;
        this.progress({ pages: this.pages, rows: this.rows, bytes: this.bytes, rejected: this.validator.rejectedSoFar });
      },
      (error: unknown) => {
        this.writeFailure ??= { error };
      },
    );
    const tracked: Promise<void> = write.then(() => {
      this.pending.delete(tracked);
    });
    this.pending.add(tracked);
    while (this.pending.size >= MAX_PENDING_WRITES) await Promise.race(this.pending);
    this.throwWriteFailure();
  }

  /** Waits for every page write; throws the first write error. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
    this.throwWriteFailure();
  }

  /** Waits for every page write, ignoring failures (before aborting the session). */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
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
