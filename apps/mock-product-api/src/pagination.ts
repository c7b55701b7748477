import type { Catalogue, Product } from './catalogue.js';
import type { MockApiOptions } from './options.js';

/** Which products one request asks for, whatever the pagination style. */
export interface PageWindow {
  offset: number;
  limit: number;
  /** 1-based page index: what fault rules and stats refer to. */
  page: number;
  /** The cursor the request carried (cursor style). */
  cursor: string | undefined;
}

/** How the page's content is bent by a fault. */
export interface PageTwist {
  /** The cursor or link does not advance; offset/page styles serve the first page's items again. */
  repeat: boolean;
  /** Prices and popularity scores become strings. */
  wrongTypes: boolean;
  /** The last product of the page is missing. */
  short: boolean;
}

export const NO_TWIST: PageTwist = Object.freeze({ repeat: false, wrongTypes: false, short: false });

/** A rendered page: the exact body bytes and the headers that go with them. */
export interface RenderedPage {
  body: string;
  headers: Record<string, string>;
}

/** Thrown for bad query parameters; answered 400 with this message. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** Opaque cursors: base64url of the next offset. Stable, so bodies are byte-identical between runs. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const m = /^o(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new BadRequestError(`cursor ${JSON.stringify(cursor)} is not valid`);
  return Number(m[1]);
}

function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new BadRequestError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Reads the request's window in the configured style. */
export function parseWindow(options: MockApiOptions, query: URLSearchParams): PageWindow {
  const p = options.params;
  const max = options.maxPageSize;
  switch (options.pagination) {
    case 'offset': {
      const offset = intParam(query, p.offset, 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = intParam(query, p.limit, options.defaultPageSize, 1, max);
      return { offset, limit, page: Math.floor(offset / limit) + 1, cursor: undefined };
    }
    case 'page':
    case 'link': {
      const page = intParam(query, p.page, 1, 1, Number.MAX_SAFE_INTEGER);
      const limit = intParam(query, p.perPage, options.defaultPageSize, 1, max);
      return { offset: (page - 1) * limit, limit, page, cursor: undefined };
    }
    case 'cursor': {
      const cursor = query.get(p.cursor) ?? undefined;
      const offset = cursor ? decodeCursor(cursor) : 0;
      const limit = intParam(query, p.limit, options.defaultPageSize, 1, max);
      return { offset, limit, page: Math.floor(offset / limit) + 1, cursor: cursor || undefined };
    }
  }
}

function present(options: MockApiOptions, products: Product[], twist: PageTwist): Record<string, unknown>[] {
  const rename = options.rename;
  return products.map((product) => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(product)) {
      let v: unknown = value;
      if (twist.wrongTypes && key === 'price') v = `${(value as number).toFixed(2)} EUR`;
      if (twist.wrongTypes && key === 'popularity_score') v = String(value);
      out[rename[key] ?? key] = v;
    }
    return out;
  });
}

/**
 * Renders one page in the configured style. `requestUrl` (absolute) is the
 * base of the `Link` header of the link style.
 */
export function renderPage(options: MockApiOptions, catalogue: Catalogue, window: PageWindow, twist: PageTwist, requestUrl: URL): RenderedPage {
  const total = catalogue.size;
  const { offset, limit } = window;
  let products = catalogue.slice(twist.repeat && options.pagination !== 'cursor' && options.pagination !== 'link' ? 0 : offset, limit);
  if (twist.short && products.length > 0) products = products.slice(0, -1);
  const items = present(options, products, twist);
  const nextOffset = offset + limit;
  const hasNext = nextOffset < total;
  const p = options.params;
  switch (options.pagination) {
    case 'offset':
      return { body: JSON.stringify({ [options.itemsField]: items, [options.totalField]: total, [p.offset]: offset, [p.limit]: limit }), headers: {} };
    case 'page':
      return { body: JSON.stringify({ [options.itemsField]: items, [options.totalField]: total, [p.page]: window.page, [p.perPage]: limit }), headers: {} };
    case 'cursor': {
      const next = twist.repeat ? (window.cursor ?? encodeCursor(offset)) : hasNext ? encodeCursor(nextOffset) : null;
      return { body: JSON.stringify({ [options.itemsField]: items, [options.cursorField]: next }), headers: {} };
    }
    case 'link': {
      const headers: Record<string, string> = { 'x-total-count': String(total) };
      if (hasNext || twist.repeat) {
        const next = new URL(requestUrl);
        next.searchParams.set(p.page, String(twist.repeat ? window.page : window.page + 1));
        next.searchParams.set(p.perPage, String(limit));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return { body: JSON.stringify(items), headers };
    }
  }
}
