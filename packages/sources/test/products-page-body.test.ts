import { describe, expect, it } from 'vitest';
import { MalformedPageError, MAX_PAGE_DEPTH, parsePage, type PageShape } from '../src/products/page-body.js';

const shape: PageShape = { itemsField: undefined, totalField: 'total', cursorField: 'next_cursor' };
const body = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('parsePage', () => {
  it('by default takes a bare array, else "items"', () => {
    expect(parsePage(body([{ a: 1 }]), 'application/json', shape)).toEqual({ items: [{ a: 1 }], total: undefined, nextCursor: undefined });
    expect(parsePage(body({ items: [], total: 0, next_cursor: null }), null, shape)).toEqual({ items: [], total: 0, nextCursor: undefined });
  });

  it('reads a configured items field, also a dotted path, and the cursor', () => {
    expect(parsePage(body({ products: [1], total: 9 }), 'application/json', { ...shape, itemsField: 'products' }).items).toEqual([1]);
    expect(parsePage(body({ data: { items: [2] }, next_cursor: 'abc' }), 'application/json', { ...shape, itemsField: 'data.items' })).toMatchObject({ items: [2], nextCursor: 'abc' });
  });

  it.each([
    ['{"items":[{"a":', 'application/json', /^body is not valid JSON \(15 bytes\): /],
    ['<html></html>', 'text/html; charset=utf-8', /^expected a JSON body, got text\/html \(13 bytes\)$/],
    ['{"data":[]}', 'application/json', /^body is neither an array nor has an array at "items" \(found \{"data":\[\]\}\)$/],
    ['{"items":[],"total":"many"}', 'application/json', /^"total" must be a whole number, got "many"$/],
    ['{"items":[],"next_cursor":{"x":1}}', 'application/json', /^"next_cursor" must be a string, got \{"x":1\}$/],
  ])('refuses %s with a reason', (text, type, message) => {
    expect(() => parsePage(body(text), type, shape)).toThrow(MalformedPageError);
    expect(() => parsePage(body(text), type, shape)).toThrow(message);
  });

  it('refuses a body nested deeper than MAX_PAGE_DEPTH as malformed, without running out of stack (issue 12.13)', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    for (const text of [`{"items":[${deep(100_000)}]}`, `[{"product_id":"p1","meta":${deep(100_000)}}]`, deep(MAX_PAGE_DEPTH + 1)]) {
      expect(() => parsePage(body(text), 'application/json', shape)).toThrow(MalformedPageError);
      expect(() => parsePage(body(text), 'application/json', shape)).toThrow(`body nests arrays or objects deeper than ${MAX_PAGE_DEPTH} levels (${text.length} bytes)`);
    }
    expect(parsePage(body(`{"items":[${deep(MAX_PAGE_DEPTH - 2)}]}`), 'application/json', shape).items).toHaveLength(1);
  });

  it('names the configured field that is missing', () => {
    expect(() => parsePage(body({ items: [] }), 'application/json', { ...shape, itemsField: 'products' })).toThrow('body has no array at "products" (found nothing)');
  });
});
