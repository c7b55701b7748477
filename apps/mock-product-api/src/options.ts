import type { FaultRule } from './faults.js';
import type { WindowLimit } from './window-limiter.js';

export type PaginationStyle = 'offset' | 'page' | 'cursor' | 'link';
export const PAGINATION_STYLES: readonly PaginationStyle[] = ['offset', 'page', 'cursor', 'link'];

/** Query parameter names the API understands (to mimic another API, e.g. `skip`/`limit`). */
export interface ParamNames {
  /** @defaultValue 'offset' */
  offset: string;
  /** Page size for offset and cursor pagination. @defaultValue 'limit' */
  limit: string;
  /** @defaultValue 'page' */
  page: string;
  /** Page size for page and link pagination. @defaultValue 'per_page' */
  perPage: string;
  /** @defaultValue 'cursor' */
  cursor: string;
}

/** Everything that shapes the mock API; every field has a default. */
export interface MockApiOptions {
  /** Address to bind. @defaultValue '127.0.0.1' */
  host: string;
  /** Port to bind; 0 picks a free one. @defaultValue 4010 */
  port: number;
  /** Catalogue size. @defaultValue 5000 */
  products: number;
  /** Catalogue seed: the same seed serves byte-identical pages. @defaultValue '42' */
  seed: string;
  /** @defaultValue 'offset' */
  pagination: PaginationStyle;
  /** Page size when the client asks for none. @defaultValue 100 */
  defaultPageSize: number;
  /** Largest page size served; larger asks get 400. @defaultValue 1000 */
  maxPageSize: number;
  /** Parameter names; see {@link ParamNames}. */
  params: ParamNames;
  /** Body field holding the array (ignored by `link`, whose body is the array). @defaultValue 'items' */
  itemsField: string;
  /** Body field holding the catalogue size (offset and page). @defaultValue 'total' */
  totalField: string;
  /** Body field holding the next cursor (cursor). @defaultValue 'next_cursor' */
  cursorField: string;
  /** Serve product fields under other names, e.g. `{ product_id: 'id' }`. @defaultValue {} */
  rename: Readonly<Record<string, string>>;
  /** Bearer token required on `/products` (401 without it). @defaultValue undefined (open) */
  token: string | undefined;
  /** Requests served per second before answering 429 with `Retry-After`. @defaultValue undefined (no limit) */
  rateLimitPerSecond: number | undefined;
  /** A fixed-window limit per client (`--rate-limit 100/10s`), with rate-limit headers. @defaultValue undefined (none) */
  windowLimit: WindowLimit | undefined;
  /** Added to every `/products` response. @defaultValue 0 */
  latencyMs: number;
  /** Share of `/products` requests answered 500, 502 or 503 at random (seeded). @defaultValue 0 */
  failRatio: number;
  /** Scripted faults; see {@link FaultRule}. Replaceable at run time by `POST /__faults`. @defaultValue [] */
  faults: readonly FaultRule[];
  /** Bytes of serialized pages kept to answer the same page again without rendering it; 0 renders every answer. @defaultValue 64 MiB */
  pageCacheBytes: number;
}

export const DEFAULT_OPTIONS: MockApiOptions = Object.freeze({
  host: '127.0.0.1',
  port: 4010,
  products: 5000,
  seed: '42',
  pagination: 'offset',
  defaultPageSize: 100,
  maxPageSize: 1000,
  params: Object.freeze({ offset: 'offset', limit: 'limit', page: 'page', perPage: 'per_page', cursor: 'cursor' }),
  itemsField: 'items',
  totalField: 'total',
  cursorField: 'next_cursor',
  rename: Object.freeze({}),
  token: undefined,
  rateLimitPerSecond: undefined,
  windowLimit: undefined,
  latencyMs: 0,
  failRatio: 0,
  faults: Object.freeze([]),
  pageCacheBytes: 64 * 1024 * 1024,
});

/** Options given by a caller: any subset, `params` also partially. */
export type MockApiInput = Partial<Omit<MockApiOptions, 'params'>> & { params?: Partial<ParamNames> };

/** The entries of `o` whose value is not undefined (an undefined option means "the default"). */
function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Fills defaults in, for every option left out or undefined, `params` included. */
export function resolveOptions(input: MockApiInput = {}): MockApiOptions {
  return {
    ...DEFAULT_OPTIONS,
    ...defined(input),
    params: { ...DEFAULT_OPTIONS.params, ...defined(input.params) },
  };
}
