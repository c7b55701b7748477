import { readField } from './field-path.js';

/** Where the parts of a page live in the body. */
export interface PageShape {
  /** Field with the product array; undefined means the body itself if it is an array, else `items`. */
  itemsField: string | undefined;
  /** Field with the catalogue size. */
  totalField: string;
  /** Field with the next cursor (cursor pagination). */
  cursorField: string;
}

/** What one page body says. */
export interface ParsedPage {
  items: unknown[];
  /** The API's catalogue size, when the body states it. */
  total: number | undefined;
  /** The next cursor; undefined at the end (null, empty or absent). */
  nextCursor: string | undefined;
}

/**
 * Thrown when a 200 answer is not a usable page (truncated JSON, an HTML
 * error page, the wrong shape). Internal to the source: the page is retried
 * and, when the budget is spent, the job fails with a TransientError.
 */
export class MalformedPageError extends Error {
  override readonly name = 'MalformedPageError';
}

const DEFAULT_ITEMS_FIELD = 'items';

/**
 * Deepest nesting of arrays and objects accepted in a page body. Deeper JSON
 * parses, but anything that walks it recursively (JSON.stringify among them)
 * runs out of stack; no product API nests anywhere near this.
 * @defaultValue 64
 */
export const MAX_PAGE_DEPTH = 64;

/**
 * Whether `value` nests arrays and objects deeper than `max`. Recursion is
 * bounded by `max` itself, so it cannot overflow; no per-node allocation (it
 * runs on every page, and a page is mostly flat product objects).
 */
function nestsDeeperThan(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (max <= 0) return true;
  if (Array.isArray(value)) {
    for (const child of value as unknown[]) if (child !== null && typeof child === 'object' && nestsDeeperThan(child, max - 1)) return true;
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const child = record[key];
    if (child !== null && typeof child === 'object' && nestsDeeperThan(child, max - 1)) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Parses one page body as received; throws MalformedPageError naming what is wrong. */
export function parsePage(body: Uint8Array, contentType: string | null, shape: PageShape): ParsedPage {
  if (contentType && !/json/i.test(contentType)) {
    throw new MalformedPageError(`expected a JSON body, got ${contentType.split(';')[0]} (${body.byteLength} bytes)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new MalformedPageError(`body is not valid JSON (${body.byteLength} bytes): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (nestsDeeperThan(json, MAX_PAGE_DEPTH)) throw new MalformedPageError(`body nests arrays or objects deeper than ${MAX_PAGE_DEPTH} levels (${body.byteLength} bytes)`);
  let items: unknown;
  if (shape.itemsField !== undefined) {
    items = readField(json, shape.itemsField);
    if (!Array.isArray(items)) throw new MalformedPageError(`body has no array at "${shape.itemsField}" (found ${describe(items)})`);
  } else if (Array.isArray(json)) {
    items = json;
  } else {
    items = readField(json, DEFAULT_ITEMS_FIELD);
    if (!Array.isArray(items)) throw new MalformedPageError(`body is neither an array nor has an array at "${DEFAULT_ITEMS_FIELD}" (found ${describe(json)})`);
  }
  const rawTotal = Array.isArray(json) ? undefined : readField(json, shape.totalField);
  if (rawTotal !== undefined && rawTotal !== null && !(typeof rawTotal === 'number' && Number.isInteger(rawTotal) && rawTotal >= 0)) {
    throw new MalformedPageError(`"${shape.totalField}" must be a whole number, got ${describe(rawTotal)}`);
  }
  const rawCursor = Array.isArray(json) ? undefined : readField(json, shape.cursorField);
  let nextCursor: string | undefined;
  if (typeof rawCursor === 'string') nextCursor = rawCursor === '' ? undefined : rawCursor;
  else if (typeof rawCursor === 'number' && Number.isFinite(rawCursor)) nextCursor = String(rawCursor);
  else if (rawCursor !== undefined && rawCursor !== null && rawCursor !== false) {
    throw new MalformedPageError(`"${shape.cursorField}" must be a string, got ${describe(rawCursor)}`);
  }
  return { items: items as unknown[], total: typeof rawTotal === 'number' ? rawTotal : undefined, nextCursor };
}
