import { describe, expect, it } from 'vitest';
import { DayWindow } from '@recomart/sources';
import { seededRandom } from '../../../test/helpers/seeded-random.js';

const DAY = '2024-05-01';
const START = Date.UTC(2024, 4, 1);
const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('DayWindow.fast (raw bytes, the hot path)', () => {
  const w = new DayWindow(DAY, 0);

  it('reads the day\'s own ISO timestamps with and without milliseconds', () => {
    expect(w.fast(bytes('2024-05-01T00:00:00.000Z'))).toBe(START);
    expect(w.fast(bytes('2024-05-01T13:45:12.345Z'))).toBe(Date.UTC(2024, 4, 1, 13, 45, 12, 345));
    expect(w.fast(bytes('2024-05-01T23:59:59.999Z'))).toBe(START + 86_400_000 - 1);
    expect(w.fast(bytes('2024-05-01T23:59:59Z'))).toBe(START + 86_399_000);
  });

  it('reads 13-digit epoch milliseconds inside the window', () => {
    expect(w.fast(bytes(String(START + 5)))).toBe(START + 5);
    expect(w.fast(bytes(String(START - 1)))).toBeNaN();
    expect(w.fast(bytes(String(START + 86_400_000)))).toBeNaN();
  });

  it('leaves everything else to the strict parser (NaN)', () => {
    for (const s of [
      '2024-05-02T00:00:00.000Z', // another day
      '2024-05-01T24:00:00.000Z',
      '2024-05-01T12:60:00.000Z',
      '2024-05-01T12:00:60.000Z',
      '2024-05-01T12:00:00.00xZ',
      '2024-05-01T12:00:00,000Z', // a comma fraction is valid ISO, but not the fast shape
      '2024-05-01T12:00:00.000+00:00',
      '2024-05-01 12:00:00.000Z',
      '2024-05-01T12:00:00.000z',
      '17145576000x0',
      '',
    ]) {
      expect(w.fast(bytes(s)), s).toBeNaN();
    }
  });
  it('agrees with the strict parser on every byte change of the fast shapes, read in place at any offset', () => {
    const seed = 1402;
    const random = seededRandom(seed);
    const alphabet = '0123456789:.-TZz+ \xff';
    const valid = ['2024-05-01T13:45:12.345Z', '2024-05-01T09:05:07Z', '2024-05-01T23:59:59.999Z', '2024-05-01T00:00:00.000Z', String(START + 3_600_000)];
    for (let i = 0; i < 20_000; i++) {
      const base = valid[i % valid.length] as string;
      const chars = [...base];
      for (let k = 1 + Math.floor(random() * 2); k > 0; k--) chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)] as string;
      const text = chars.join('');
      const at = Math.floor(random() * 7);
      const padded = Buffer.concat([Buffer.alloc(at, 0x2c), bytes(text), Buffer.alloc(3, 0x2c)]);
      const fast = w.fastIn(new DataView(padded.buffer, padded.byteOffset, padded.byteLength), at, text.length);
      const strict = w.parse(text);
      // The fast path may leave a timestamp to the strict parser (NaN), but never reads one differently.
      if (!Number.isNaN(fast)) expect(fast, `seed ${seed}, case ${i}: ${JSON.stringify(text)}`).toBe(strict);
      expect(w.fast(bytes(text)), `seed ${seed}, case ${i}: ${JSON.stringify(text)}`).toBe(fast);
    }
  });
});

describe('DayWindow.parse (strict, the slow path)', () => {
  const w = new DayWindow(DAY, 0);

  it('reads ISO-8601 with every kind of zone, optional seconds and fractions', () => {
    expect(w.parse('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(w.parse('2024-05-01T10:00Z')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(w.parse('2024-05-01T12:00:00+02:00')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(w.parse('2024-05-01T12:00:00+0200')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(w.parse('2024-05-01T12:00:00+02')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(w.parse('2024-04-30T23:30:00-05:30')).toBe(Date.UTC(2024, 4, 1, 5));
    expect(w.parse('2024-05-01T10:00:00.123456789Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    expect(w.parse('2024-05-01T10:00:00,5Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 500));
    expect(w.parse('1714557600000')).toBe(Date.UTC(2024, 4, 1, 10));
  });

  it('refuses timestamps without a zone, impossible dates and times, and words (NaN)', () => {
    for (const s of [
      '2024-05-01T10:00:00',
      '2024-05-01 10:00:00Z',
      '2024-02-30T10:00:00Z',
      '2023-02-29T10:00:00Z',
      '2024-13-01T10:00:00Z',
      '2024-05-01T25:00:00Z',
      '2024-05-01T10:61:00Z',
      '2024-05-01T10:00:00+24:00',
      '2024-05-01T10:00:00.Z',
      'yesterday',
      '-1714557600000',
      '1.7e12',
      '',
    ]) {
      expect(w.parse(s), s).toBeNaN();
    }
  });

  it('reads years before 100 as themselves, not as 19xx', () => {
    expect(new Date(w.parse('0099-05-01T00:00:00Z')).toISOString()).toBe('0099-05-01T00:00:00.000Z');
  });
});

describe('DayWindow.contains', () => {
  it('is the UTC day without tolerance', () => {
    const w = new DayWindow(DAY, 0);
    expect(w.contains(START - 1)).toBe(false);
    expect(w.contains(START)).toBe(true);
    expect(w.contains(START + 86_400_000 - 1)).toBe(true);
    expect(w.contains(START + 86_400_000)).toBe(false);
  });

  it('widens by the tolerance on both sides, and the fast path follows it for epoch values', () => {
    const w = new DayWindow(DAY, 60_000);
    expect(w.contains(START - 60_000)).toBe(true);
    expect(w.contains(START - 60_001)).toBe(false);
    expect(w.contains(START + 86_400_000 + 59_999)).toBe(true);
    expect(w.contains(START + 86_400_000 + 60_000)).toBe(false);
    expect(w.fast(bytes(String(START - 60_000)))).toBe(START - 60_000);
  });
});

describe('DayWindow in PARTITION_TZ', () => {
  it('is the Tokyo calendar day when the partition zone is Asia/Tokyo, and the UTC day by default', () => {
    const tokyo = new DayWindow(DAY, 0, 'Asia/Tokyo');
    // The Tokyo day begins 9 hours before the UTC one.
    expect(tokyo.start).toBe(START - 9 * 3_600_000);
    expect(tokyo.contains(START - 9 * 3_600_000)).toBe(true);
    expect(tokyo.contains(START + 15 * 3_600_000)).toBe(false);
    expect(new DayWindow(DAY, 0).contains(START + 15 * 3_600_000)).toBe(true);
    // An ISO timestamp late on the UTC date is the next Tokyo day: the fast path must not accept it.
    const lateUtc = `${DAY}T20:00:00.000Z`;
    expect(tokyo.fast(bytes(lateUtc))).toBeNaN();
    expect(tokyo.contains(tokyo.parse(lateUtc))).toBe(false);
    expect(new DayWindow(DAY, 0).fast(bytes(lateUtc))).toBe(START + 20 * 3_600_000);
  });
});
