import { describe, expect, it } from 'vitest';
import { HyperLogLog } from '@recomart/sources';

function sketchOf(values: Iterable<string>): HyperLogLog {
  const h = new HyperLogLog();
  for (const v of values) h.add(Buffer.from(v));
  return h;
}

function* ids(n: number, prefix = ''): Generator<string> {
  for (let i = 0; i < n; i++) yield `${prefix}${10_000_000 + i * 7}`;
}

describe('HyperLogLog', () => {
  it('is exact enough for small sets and ignores repeats', () => {
    expect(sketchOf([]).estimate()).toBe(0);
    expect(sketchOf(['a', 'a', 'a']).estimate()).toBe(1);
    const h = sketchOf(ids(100));
    const once = h.estimate();
    // 100 values in 2^14 registers share one with a chance of ~26% (the birthday bound): within 2, not exact.
    expect(Math.abs(once - 100), `estimate ${once}`).toBeLessThanOrEqual(2);
    for (const v of ids(100)) h.add(Buffer.from(v));
    expect(h.estimate(), 'the same values again change nothing').toBe(once);
  });

  it('estimates large sets within 3% (4 standard errors)', () => {
    for (const n of [50_000, 300_000]) {
      const estimate = sketchOf(ids(n, 'u')).estimate();
      expect(Math.abs(estimate - n) / n, `n=${n} estimate=${estimate}`).toBeLessThan(0.03);
    }
  });

  it('tells different byte strings apart, same bytes alike', () => {
    const a = sketchOf(['17', '71', '1 7', '']);
    expect(a.estimate()).toBe(4);
  });
});
