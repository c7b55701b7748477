/**
 * Random fault points that can be replayed: the seed comes from `FAULT_SEED`
 * when set, else it is drawn at random; tests put it in their failure
 * messages, so `FAULT_SEED=<seed> npm run test:faults` reproduces a run.
 */
export interface FaultRandom {
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** A number in [min, max). */
  between(min: number, max: number): number;
}

/** mulberry32 */
export function faultRandom(seed = process.env.FAULT_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FAULT_SEED)): FaultRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (min, max) => min + next() * (max - min) };
}
