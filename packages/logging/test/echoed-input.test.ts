import { describe, expect, it } from 'vitest';
import { echoInput } from '@recomart/logging';

describe('echoInput', () => {
  it('quotes a short value whole', () => {
    expect(echoInput('2024-02-30')).toBe('"2024-02-30"');
    expect(echoInput(42)).toBe('42');
    expect(echoInput(undefined)).toBe('nothing');
  });

  it('cuts a long string to 200 characters and says how long it was', () => {
    const huge = 'a'.repeat(5 * 1024 * 1024);
    const shown = echoInput(huge);
    expect(shown).toBe(`"${'a'.repeat(200)}…" (5,242,880 characters)`);
  });

  it('cuts the JSON of a long non-string value the same way, and never half a surrogate pair', () => {
    const shown = echoInput({ nested: 'x'.repeat(10_000) });
    expect(shown.length).toBeLessThan(260);
    expect(shown).toMatch(/^\{"nested":"x+… \(10,013 characters\)$/);
    expect(echoInput(`${'b'.repeat(199)}😀tail`)).toBe(`"${'b'.repeat(199)}…" (205 characters)`);
  });
});
