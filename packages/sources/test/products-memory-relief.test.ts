import { describe, expect, it } from 'vitest';
import { MemoryRelief, RELIEF_EVERY_BYTES } from '../src/products/memory-relief.js';

describe('MemoryRelief', () => {
  it('collects once per RELIEF_EVERY_BYTES of pages stored, never between', () => {
    const relief = new MemoryRelief();
    const page = 150_000;
    const runs: number[] = [];
    for (let i = 1; i <= 400; i++) if (relief.stored(page)) runs.push(i);
    const every = Math.ceil(RELIEF_EVERY_BYTES / page);
    expect(runs).toEqual(Array.from({ length: Math.floor(400 / every) }, (_, k) => (k + 1) * every));
  });

  it('a full collection frees garbage the heap still held', async () => {
    const relief = new MemoryRelief(1);
    // Garbage only a collection frees: an object nothing refers to but a WeakRef (kept alive to the end of the turn it was made in).
    const ref = new WeakRef({ big: Array.from({ length: 100_000 }, (_, i) => i) });
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(relief.stored(1)).toBe(true);
    expect(ref.deref(), 'collected by the relief').toBeUndefined();
  });
});
