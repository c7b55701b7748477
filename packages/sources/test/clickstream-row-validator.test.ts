import { describe, expect, it } from 'vitest';
import { DayWindow, RowValidator, type RawRecord, type RejectReason } from '@recomart/sources';
import { seededRandom } from '../../../test/helpers/seeded-random.js';

const COLUMNS = ['user_id', 'product_id', 'event_type', 'timestamp', 'device'] as const;

function record(line: string): { record: RawRecord; cells: number } {
  const cells = line === '' ? [] : line.split(',');
  const rec: Record<string, Buffer> = {};
  cells.forEach((c, i) => (rec[COLUMNS[i] ?? `_${i}`] = Buffer.from(c)));
  return { record: rec, cells: cells.length };
}

interface Seen {
  offset: number;
  cells: number;
  reasons: readonly RejectReason[];
  messages: readonly string[];
}

function validate(lines: readonly string[], toleranceMs = 0, raggedWindow = 1000) {
  const v = new RowValidator(new DayWindow('2024-05-01', toleranceMs), 4, raggedWindow);
  const rejected: Seen[] = [];
  const progress: Array<[number, number]> = [];
  const ragged: Array<[number, number]> = [];
  v.beginFile({
    reject: (offset, cells, reasons, messages) => rejected.push({ offset, cells, reasons, messages }),
    raggedCheck: (rows, n) => ragged.push([rows, n]),
    progress: (rows, n) => progress.push([rows, n]),
  });
  lines.forEach((l, i) => {
    const { record: r, cells } = record(l);
    v.check(r, cells, i * 100);
  });
  return { v, rejected, progress, ragged, summary: v.summary() };
}

describe('RowValidator', () => {
  it('accepts the contract\'s shapes on the fast and the strict path alike', () => {
    const { rejected, summary } = validate([
      '1001,2001,view,2024-05-01T10:00:00.000Z,web',
      '1001,2001,click,2024-05-01T10:00:01Z,ios',
      '1001,2001,add_to_cart,1714557600000,android',
      '18446744073709551617,2001,view,2024-05-01T12:00:00+02:00,web',
      '1001,2001,view,2024-04-30T23:00:00-01:00,web',
      '1001,2001,view,2024-05-01T23:59:59.999999Z,web',
    ]);
    expect(rejected).toEqual([]);
    expect(summary).toMatchObject({
      rows: 6,
      accepted: 6,
      rejected: 0,
      rejectRatio: 0,
      eventTypes: { view: 4, click: 1, add_to_cart: 1 },
      devices: { android: 1, ios: 1, web: 4 },
      firstTimestamp: '2024-05-01T00:00:00.000Z',
      lastTimestamp: '2024-05-01T23:59:59.999Z',
      distinctUsersApprox: 2,
      distinctProductsApprox: 1,
    });
  });

  it('names every reason of a bad row, with its exact message', () => {
    const { rejected, summary } = validate([
      ',2001,view,2024-05-01T10:00:00.000Z,web',
      '1001,,view,2024-05-01T10:00:00.000Z,web',
      '1001,2001,purchase,2024-05-01T10:00:00.000Z,web',
      '1001,2001,view,2024-05-01 10:00:00,web',
      '1001,2001,view,2024-05-02T00:00:00.000Z,web',
      '1001,2001,view,1714500000000,web',
      '1001,2001,view,2024-05-01T10:00:00.000Z,',
      '1001,2001,view,2024-05-01T10:00:00.000Z',
      '1001,2001,view,2024-05-01T10:00:00.000Z,web,extra',
      ',,,,',
    ]);
    expect(rejected.map((r) => [r.offset, r.cells, r.reasons, r.messages])).toEqual([
      [0, 5, ['empty_user_id'], ['user_id is empty']],
      [100, 5, ['empty_product_id'], ['product_id is empty']],
      [200, 5, ['bad_event_type'], ['event_type must be one of view, click, add_to_cart, got "purchase"']],
      [300, 5, ['bad_timestamp'], ['timestamp must be ISO-8601 with a zone (e.g. 2024-05-01T13:45:00.000Z) or epoch milliseconds, got "2024-05-01 10:00:00"']],
      [400, 5, ['timestamp_off_day'], ['timestamp "2024-05-02T00:00:00.000Z" is not on 2024-05-01 UTC (tolerance 0 ms)']],
      [500, 5, ['timestamp_off_day'], ['timestamp "1714500000000" (2024-04-30T18:00:00.000Z) is not on 2024-05-01 UTC (tolerance 0 ms)']],
      [600, 5, ['empty_device'], ['device is empty']],
      [700, 4, ['field_count'], ['expected 5 fields (user_id,product_id,event_type,timestamp,device), got 4']],
      [800, 6, ['field_count'], ['expected 5 fields (user_id,product_id,event_type,timestamp,device), got 6']],
      [
        900,
        5,
        ['empty_user_id', 'empty_product_id', 'bad_event_type', 'bad_timestamp', 'empty_device'],
        [
          'user_id is empty',
          'product_id is empty',
          'event_type must be one of view, click, add_to_cart, got ""',
          'timestamp must be ISO-8601 with a zone (e.g. 2024-05-01T13:45:00.000Z) or epoch milliseconds, got ""',
          'device is empty',
        ],
      ],
    ]);
    expect(summary).toMatchObject({
      rows: 10,
      accepted: 0,
      rejected: 10,
      rejectRatio: 1,
      rejectedByReason: {
        field_count: 2,
        empty_user_id: 2,
        empty_product_id: 2,
        bad_event_type: 2,
        bad_timestamp: 2,
        timestamp_off_day: 2,
        empty_device: 2,
      },
      firstTimestamp: null,
      lastTimestamp: null,
    });
  });

  it('cuts long offending values in messages', () => {
    const { rejected } = validate([`1001,2001,${'x'.repeat(200)},2024-05-01T10:00:00.000Z,web`]);
    expect(rejected[0]?.messages).toEqual([`event_type must be one of view, click, add_to_cart, got "${'x'.repeat(80)}…" (200 characters)`]);
  });

  it('applies the timestamp tolerance', () => {
    const { rejected } = validate(['1001,2001,view,2024-04-30T23:59:30Z,web', '1001,2001,view,2024-05-02T00:01:00.000Z,web'], 60_000);
    expect(rejected.map((r) => r.messages)).toEqual([['timestamp "2024-05-02T00:01:00.000Z" is not on 2024-05-01 UTC (tolerance 60000 ms)']]);
  });

  it('skips blank lines: not rows, not rejected', () => {
    const { rejected, summary } = validate(['', '1001,2001,view,2024-05-01T10:00:00.000Z,web', '']);
    expect(rejected).toEqual([]);
    expect(summary.rows).toBe(1);
  });

  it('reports progress every so many rows and asks for the ragged verdict once, at the window', () => {
    const good = '1001,2001,view,2024-05-01T10:00:00.000Z,web';
    const { progress, ragged } = validate([good, 'a,b', good, 'a,b', 'a,b', good, good, good, good], 0, 5);
    expect(progress).toEqual([
      [4, 2],
      [8, 3],
    ]);
    expect(ragged).toEqual([[5, 3]]);
  });

  it('counts devices by exact bytes, keeps odd names as data, and folds devices past the cap into (other)', () => {
    const lines = ['1001,2001,view,2024-05-01T10:00:00.000Z,__proto__'];
    for (let i = 0; i < 105; i++) lines.push(`1001,2001,view,2024-05-01T10:00:00.000Z,device-${String(i).padStart(3, '0')}`);
    const { summary } = validate(lines);
    expect(Object.getPrototypeOf(summary.devices)).toBe(null);
    expect(Object.keys(summary.devices)).toHaveLength(101);
    expect(summary.devices['__proto__']).toBe(1);
    expect(summary.devices['device-098']).toBe(1);
    expect(summary.devices['device-099']).toBeUndefined();
    expect(summary.devices['(other)']).toBe(6);
    expect(JSON.parse(JSON.stringify(summary.devices))).toMatchObject({ __proto__: 1, '(other)': 6 });
  });

  it('counts devices exactly when their names share a length and first and last byte, in any interleaving', () => {
    const seed = 20261202;
    const random = seededRandom(seed);
    // 130 names alike at both ends (and so at one guess slot in many cases), plus a few others.
    const pool = [...Array.from({ length: 130 }, (_, i) => `m${String(i).padStart(3, '0')}e`), 'mobile', 'mobilf', 'tablet', 'desktop'];
    const picks = Array.from({ length: 5000 }, () => pool[Math.floor(random() * pool.length)] as string);
    const { summary } = validate(picks.map((d) => `1001,2001,view,2024-05-01T10:00:00.000Z,${d}`));
    const expected = new Map<string, number>();
    let other = 0;
    for (const d of picks) {
      if (expected.has(d)) expected.set(d, (expected.get(d) as number) + 1);
      else if (expected.size < 100) expected.set(d, 1);
      else other++;
    }
    expect({ ...summary.devices }, `seed ${seed}`).toEqual({ ...Object.fromEntries(expected), ...(other > 0 ? { '(other)': other } : {}) });
  });
});
