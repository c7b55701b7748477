import { describe, expect, it } from 'vitest';
import { PaginationError, SnapshotMismatchError, TransientError } from '@recomart/jobs';
import type { CommitInput, CommitResult, FileSink, ManifestFile, WriteSession } from '@recomart/lake';
import { MAX_PENDING_WRITES, PageCollector } from '../src/products/page-collector.js';
import type { FetchedPage } from '../src/products/page-fetcher.js';
import { ProductValidator } from '../src/products/product-validator.js';

/** An in-memory write session whose writes finish when the test says so. */
class HeldSession implements WriteSession {
  readonly init = { source: 'products', date: '2024-03-01', runId: 'r', jobId: 'j', attempt: 1 };
  readonly written = new Map<string, Uint8Array | string>();
  readonly waiting: { name: string; finish: () => void; fail: (e: Error) => void }[] = [];
  createFile(): FileSink {
    throw new Error('not used');
  }
  writeFile(name: string, origin: string, data: Uint8Array | string): Promise<ManifestFile> {
    return new Promise((resolve, reject) => {
      this.waiting.push({
        name,
        finish: () => {
          this.written.set(name, data);
          resolve({ path: name, bytes: data.length, sha256: '', origin });
        },
        fail: reject,
      });
    });
  }
  commit(_input: CommitInput): Promise<CommitResult> {
    throw new Error('not used');
  }
  quarantine(): Promise<{ path: string }> {
    throw new Error('not used');
  }
  abort(): Promise<void> {
    return Promise.resolve();
  }
  readonly resumed = undefined;
  keep(): Promise<void> {
    throw new Error('not used');
  }
  readFile(): Promise<Buffer> {
    throw new Error('not used');
  }
  removeFile(): Promise<void> {
    throw new Error('not used');
  }
}

function page(index: number, items: unknown[], total?: number): FetchedPage {
  const body = Buffer.from(JSON.stringify({ items, total }));
  return { index, url: `http://x/p?page=${index}`, shownUrl: `http://x/p?page=${index}`, body, headers: new Headers(), parsed: { items, total, nextCursor: undefined } };
}

const product = (n: number) => ({ product_id: `P${n}`, category: 'Books', brand: 'b', price: 1, popularity_score: 1 });

describe('PageCollector', () => {
  it('does not wait for page writes until MAX_PENDING_WRITES are in flight; flush waits for all', async () => {
    const session = new HeldSession();
    const collector = new PageCollector(session, new ProductValidator({}), () => undefined);
    for (let i = 1; i < MAX_PENDING_WRITES; i++) await collector.accept(page(i, [product(i)]));
    expect(session.waiting).toHaveLength(MAX_PENDING_WRITES - 1);
    let accepted = false;
    const last = collector.accept(page(MAX_PENDING_WRITES, [product(MAX_PENDING_WRITES)])).then(() => {
      accepted = true;
    });
    await new Promise<void>((r) => setImmediate(r));
    expect(accepted).toBe(false);
    session.waiting[0]?.finish();
    await last;
    expect(accepted).toBe(true);
    let flushed = false;
    const flush = collector.flush().then(() => {
      flushed = true;
    });
    await new Promise<void>((r) => setImmediate(r));
    expect(flushed).toBe(false);
    for (const w of session.waiting.slice(1)) w.finish();
    await flush;
    expect(collector.pages).toBe(MAX_PENDING_WRITES);
    expect(collector.rows).toBe(MAX_PENDING_WRITES);
    expect(session.written.get('pages/000001.json')).toEqual(page(1, [product(1)]).body);
  });

  it('a failed page write fails the snapshot at the next page or at flush', async () => {
    const session = new HeldSession();
    const collector = new PageCollector(session, new ProductValidator({}), () => undefined);
    await collector.accept(page(1, [product(1)]));
    session.waiting[0]?.fail(new TransientError('lake: ENOSPC writing pages/000001.json'));
    await new Promise<void>((r) => setImmediate(r));
    await expect(collector.accept(page(2, [product(2)]))).rejects.toThrow('lake: ENOSPC writing pages/000001.json');
    await expect(collector.flush()).rejects.toThrow('ENOSPC');
  });

  it('refuses a page repeating an earlier page, and a total that changes', async () => {
    const session = new HeldSession();
    const collector = new PageCollector(session, new ProductValidator({}), () => undefined);
    await collector.accept(page(1, [product(1)], 3));
    await expect(collector.accept(page(4, [product(1)], 3))).rejects.toThrow(new PaginationError('products page 4 repeats the products of page 1 (the API is not advancing); snapshot aborted'));
    await expect(collector.accept(page(2, [product(2)], 4))).rejects.toThrow(
      new SnapshotMismatchError("the API's total changed from 3 to 4 during the snapshot (page 2); not committed"),
    );
  });
});
