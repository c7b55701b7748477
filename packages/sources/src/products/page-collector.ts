import { createHash } from 'node:crypto';
import { PaginationError, SnapshotMismatchError } from '@recomart/jobs';
import type { WriteSession } from '@recomart/lake';
import type { SourceProgress } from '../source.js';
import type { FetchedPage } from './page-fetcher.js';
import type { ProductValidator } from './product-validator.js';

/** `pages/000001.json`: one file per page, named by its 1-based index. */
export function pageFileName(index: number): string {
  return `pages/${String(index).padStart(6, '0')}.json`;
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
  private readonly fingerprints = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  private writeFailure: { error: unknown } | undefined;

  constructor(
    private readonly session: WriteSession,
    private readonly validator: ProductValidator,
    private readonly progress: (p: SourceProgress) => void,
  ) {}

  async accept(page: FetchedPage): Promise<void> {
    this.throwWriteFailure();
    const { items } = page.parsed;
    const total = page.parsed.total ?? headerTotal(page.headers);
    if (total !== undefined) {
      if (this.apiTotal !== undefined && total !== this.apiTotal) {
        throw new SnapshotMismatchError(`the API's total changed from ${this.apiTotal} to ${total} during the snapshot (page ${page.index}); not committed`);
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
        throw new PaginationError(`products page ${page.index} repeats the products of page ${earlier} (the API is not advancing); snapshot aborted`);
      }
      this.fingerprints.set(fingerprint, page.index);
    }
    const rows = items.length;
    const write: Promise<void> = this.session.writeFile(pageFileName(page.index), page.shownUrl, page.body).then(
      () => {
        this.pages += 1;
        this.rows += rows;
        this.bytes += page.body.byteLength;
        this.progress({ pages: this.pages, rows: this.rows, bytes: this.bytes, rejected: this.validator.rejected });
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
