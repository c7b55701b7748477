import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { DayModel, DayWindow, LineIndex, RowValidator, apportion, createRecordParser, type DayModelOptions, type ValidationSummary } from '@recomart/sources';

const BASE: DayModelOptions = { date: '2024-05-01', rows: 20_000, files: 1, seed: 'model', dirty: 0 };

/** Every file's text (header not included, the model makes rows only). */
function texts(options: Partial<DayModelOptions> = {}): string[] {
  const o = { ...BASE, ...options };
  const out: string[] = Array.from({ length: o.files }, () => '');
  for (const slice of new DayModel(o).slices()) slice.texts.forEach((t, i) => (out[i] += t));
  return out;
}

const rowsOf = (text: string) => text.split('\n').filter((l) => l !== '');

/** Runs generated text through the ingestion parser and validator. */
async function validate(text: string): Promise<ValidationSummary> {
  const validator = new RowValidator(new DayWindow(BASE.date, 0));
  validator.beginFile({ reject: () => undefined, raggedCheck: () => undefined, progress: () => undefined });
  const parser = createRecordParser(65_536, { onHeader: () => undefined, onRecord: (r, cells, offset) => validator.check(r, cells, offset) });
  await Promise.all([pipeline(Readable.from([Buffer.from(`user_id,product_id,event_type,timestamp,device\n${text}`)]), new LineIndex(), parser), finished(parser)]);
  return validator.summary();
}

describe('DayModel', () => {
  it('makes the same rows for the same seed and options, other rows otherwise', () => {
    const a = texts();
    expect(texts()).toEqual(a);
    expect(texts({ seed: 'other' })).not.toEqual(a);
    expect(texts({ date: '2024-05-02' })[0]!.slice(0, 200)).not.toEqual(a[0]!.slice(0, 200));
  });

  it('makes exactly the rows asked for, dealt over the files', () => {
    for (const rows of [0, 1, 7, 5000]) expect(rowsOf(texts({ rows }).join(''))).toHaveLength(rows);
    const three = texts({ rows: 9000, files: 3 });
    expect(three.map((t) => rowsOf(t).length).reduce((a, b) => a + b, 0)).toBe(9000);
    for (const t of three) expect(rowsOf(t).length).toBeGreaterThan(2000);
  });

  it('writes rows that pass the contract, each file in time order', async () => {
    const [text] = texts();
    const summary = await validate(text!);
    expect(summary).toMatchObject({ rows: 20_000, accepted: 20_000, rejected: 0 });
    const times = rowsOf(text!).map((l) => l.split(',')[3]!);
    expect([...times].sort()).toEqual(times);
  });

  it('has realistic shape: Zipf products, a funnel, a day/night rhythm, a device mix', () => {
    const rows = rowsOf(texts({ rows: 50_000 })[0]!).map((l) => l.split(','));
    const count = <T>(xs: T[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<T, number>());
    const products = [...count(rows.map((r) => r[1])).values()].sort((a, b) => b - a);
    // The most popular product is seen far more often than under a uniform choice.
    expect(products[0]! / rows.length).toBeGreaterThan(20 / products.length);
    const events = count(rows.map((r) => r[2]));
    expect(events.get('view')!).toBeGreaterThan(events.get('click')!);
    expect(events.get('click')!).toBeGreaterThan(events.get('add_to_cart')!);
    // Every (user, product) pair starts with a view: clicks and carts follow views.
    const first = new Map<string, string>();
    for (const r of rows) if (!first.has(`${r[0]}|${r[1]}`)) first.set(`${r[0]}|${r[1]}`, r[2]!);
    expect(new Set(first.values())).toEqual(new Set(['view']));
    const hours = count(rows.map((r) => Number(r[3]!.slice(11, 13))));
    expect(hours.get(20)!).toBeGreaterThan(5 * hours.get(4)!);
    const devices = count(rows.map((r) => r[4]));
    expect([...devices.keys()].sort()).toEqual(['android', 'ios', 'tablet', 'web']);
    expect(Math.max(...devices.values())).toBe(devices.get('web'));
  });

  it('injects every kind of realistic defect into about the asked share of rows', async () => {
    const summary = await validate(texts({ dirty: 0.1 })[0]!);
    expect(summary.rejectRatio).toBeGreaterThan(0.08);
    expect(summary.rejectRatio).toBeLessThan(0.12);
    for (const [reason, n] of Object.entries(summary.rejectedByReason)) expect(n, reason).toBeGreaterThan(0);
  });

  it('apportions a total exactly by weight', () => {
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(7, [0, 1])).toEqual([0, 7]);
    expect(apportion(0, [2, 3])).toEqual([0, 0]);
  });
});
