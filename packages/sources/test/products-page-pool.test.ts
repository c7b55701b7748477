import { describe, expect, it } from 'vitest';
import { runPagePool } from '../src/products/page-pool.js';

describe('runPagePool', () => {
  it('runs every index once with at most `concurrency` in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    await runPagePool(2, 21, 4, async (i) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((r) => setImmediate(r));
      seen.push(i);
      inFlight -= 1;
    }, new AbortController().signal);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, k) => k + 2));
    expect(peak).toBe(4);
  });

  it('rethrows the first failure once the others have stopped, and aborts their signal', async () => {
    const aborted: number[] = [];
    const started: number[] = [];
    const run = runPagePool(1, 50, 3, async (i, signal) => {
      started.push(i);
      if (i === 2) throw new Error('page 2 broke');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      aborted.push(i);
      throw new Error(`page ${i} aborted`);
    }, new AbortController().signal);
    await expect(run).rejects.toThrow('page 2 broke');
    expect(aborted.sort()).toEqual([1, 3]);
    expect(started.length).toBeLessThan(50);
  });
});
