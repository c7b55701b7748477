import { describe, expect, it } from 'vitest';
import { echoInput, showText } from '@recomart/logging';

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
    // The length said counts characters (the emoji is one); the cut never splits a character.
    expect(echoInput(`${'b'.repeat(199)}😀tail`)).toBe(`"${'b'.repeat(199)}…" (204 characters)`);
    expect(echoInput(`${'b'.repeat(194)}😀😀😀`)).toBe(`"${'b'.repeat(194)}😀😀😀"`);
  });
});

describe('showText', () => {
  it('escapes what a terminal would act on or hide, and nothing else', () => {
    expect(showText('a\nb\u202ec\u2028"d\\e\u0007\u200b\ufeffé😀')).toBe('"a\\nb\\u202ec\\u2028\\"d\\\\e\\u0007\\u200b\\ufeffé😀"');
    expect(showText('tab\there "as is"', { quoted: false })).toBe('tab\\there "as is"');
  });

  it('escapes a lone half of a surrogate pair but keeps a whole pair', () => {
    expect(showText('x\ud800y\udc00z😀')).toBe('"x\\ud800y\\udc00z😀"');
  });

  it('cuts where the escaped text reaches max characters, at a whole character, and says the full length', () => {
    expect(showText('x'.repeat(100), { max: 60 })).toBe(`"${'x'.repeat(60)}…" (100 characters)`);
    expect(showText('\u202e'.repeat(100), { max: 20 })).toBe(`"${'\\u202e'.repeat(3)}…" (100 characters)`);
    expect(showText('\u202e'.repeat(3), { max: 20 })).toBe(`"${'\\u202e'.repeat(3)}"`);
    expect(showText('y'.repeat(60), { max: 60 })).toBe(`"${'y'.repeat(60)}"`);
  });
});
