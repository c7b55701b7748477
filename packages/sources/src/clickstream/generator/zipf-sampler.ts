import type { SeededRandom } from './seeded-random.js';

/**
 * Ranks 1…n with Zipf-like popularity (P(rank k) ∝ k^-s), sampled in O(1) by
 * inverting the continuous power law: rank 1 is the most popular item.
 */
export class ZipfSampler {
  private readonly oneMinusS: number;
  private readonly span: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (s === 1) throw new RangeError('ZipfSampler: s must not be 1');
    this.oneMinusS = 1 - s;
    this.span = (n + 1) ** this.oneMinusS - 1;
  }

  /** A rank from 1 to n. */
  sample(rng: SeededRandom): number {
    const x = (this.span * rng.next() + 1) ** (1 / this.oneMinusS);
    const k = Math.floor(x);
    return k < 1 ? 1 : k > this.n ? this.n : k;
  }
}
