import { intFlag, parseFlags, stringFlag, UsageError, type Command, type CommandIo, untilAborted } from '@recomart/command';
import { FaultSpecError, parseFaultSpec, type FaultRule } from './faults.js';
import { DEFAULT_OPTIONS, PAGINATION_STYLES, type MockApiInput, type PaginationStyle } from './options.js';
import { startMockProductApi } from './server.js';
import type { WindowLimit } from './window-limiter.js';

const HELP = `Usage: recomart mock-api [options]

The simulated product catalogue REST API (GET /products), with fault injection.

Options:
  --port P                 port to bind; 0 picks a free one (default ${DEFAULT_OPTIONS.port})
  --host H                 address to bind (default ${DEFAULT_OPTIONS.host})
  --products N             catalogue size, up to 10,000,000 (default ${DEFAULT_OPTIONS.products})
  --seed S                 catalogue seed; the same seed serves identical pages (default ${DEFAULT_OPTIONS.seed})
  --pagination STYLE       offset | page | cursor | link (default ${DEFAULT_OPTIONS.pagination})
  --max-page-size N        largest page served (default ${DEFAULT_OPTIONS.maxPageSize})
  --offset-param NAME      offset parameter (default offset; e.g. skip)
  --limit-param NAME       page size parameter of offset and cursor styles (default limit)
  --page-param NAME        page parameter of page and link styles (default page)
  --per-page-param NAME    page size parameter of page and link styles (default per_page)
  --cursor-param NAME      cursor parameter (default cursor)
  --items-field NAME       body field with the products (default items; e.g. products)
  --total-field NAME       body field with the catalogue size (default total)
  --cursor-field NAME      body field with the next cursor (default next_cursor)
  --rename A=B,C=D         serve product field A as B, e.g. product_id=id,popularity_score=rating
  --token T                require "Authorization: Bearer T" (401 without it)
  --rate-limit N/s         serve at most N requests a second, then 429 with Retry-After
  --rate-limit N/WINDOW    a fixed window per client (100/10s, 20/1s, 5/500ms, 0/10s = never):
                           429 with a constant Retry-After of the window, and rate-limit
                           headers on every answer
  --rate-limit-headers H   x (X-RateLimit-Limit/-Remaining/-Reset in epoch seconds; default),
                           ietf (RateLimit and RateLimit-Policy fields) or none
  --latency-ms N           delay every /products answer by N ms (default 0)
  --fail-ratio R           answer this share of requests 500/502/503 at random, 0 to 1 (default 0)
  --page-cache-mb N        MiB of serialized pages kept to answer repeated pages at once;
                           0 renders every answer (default ${DEFAULT_OPTIONS.pageCacheBytes / 1024 / 1024})
  --fault SPEC             scripted fault, repeatable: KIND[:RETRY_AFTER][@PAGE][xTIMES]
                           KIND: a status 400-599, reset, truncate, html, deep-json,
                           repeat, wrong-types, stall, short-page (e.g. 503@3x2, 429:5x1)

Per request, headers script faults too: x-mock-fault: KIND, x-mock-fault-times: N
(the first N requests to that page fail), x-mock-retry-after: seconds or HTTP date,
x-mock-latency-ms: N. Control: GET /healthz, GET /__stats, GET|POST|DELETE /__faults
(a JSON array of {fault, page?, times?, retryAfter?, message?}).

Example:
  recomart mock-api --port 0 --products 100000 --pagination cursor --rate-limit 20/s
`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  products: { type: 'string' },
  seed: { type: 'string' },
  pagination: { type: 'string' },
  'max-page-size': { type: 'string' },
  'offset-param': { type: 'string' },
  'limit-param': { type: 'string' },
  'page-param': { type: 'string' },
  'per-page-param': { type: 'string' },
  'cursor-param': { type: 'string' },
  'items-field': { type: 'string' },
  'total-field': { type: 'string' },
  'cursor-field': { type: 'string' },
  rename: { type: 'string' },
  token: { type: 'string' },
  'rate-limit': { type: 'string' },
  'rate-limit-headers': { type: 'string' },
  'latency-ms': { type: 'string' },
  'fail-ratio': { type: 'string' },
  'page-cache-mb': { type: 'string' },
  fault: { type: 'string', multiple: true },
} as const;

function nameFlag(flag: string, raw: string | undefined): string | undefined {
  if (raw !== undefined && !/^[A-Za-z_][\w.-]*$/.test(raw)) throw new UsageError(`--${flag} must be a parameter or field name, got ${JSON.stringify(raw)}`);
  return raw;
}

function parseRename(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const m = /^([A-Za-z_]\w*)=([A-Za-z_][\w.-]*)$/.exec(pair.trim());
    if (!m) throw new UsageError(`--rename must be comma-separated field=name pairs, got ${JSON.stringify(raw)}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `N/s`: today's per-second mode; `N/<window>` (`100/10s`, `20/1s`, `5/500ms`, `1000/1m`): a fixed window per client. */
function parseRateLimit(raw: string | undefined, headers: string | undefined): { rateLimitPerSecond?: number; windowLimit?: WindowLimit } {
  if (headers !== undefined && !['x', 'ietf', 'none'].includes(headers)) throw new UsageError(`--rate-limit-headers must be x, ietf or none, got ${JSON.stringify(headers)}`);
  if (raw === undefined) {
    if (headers !== undefined) throw new UsageError('--rate-limit-headers needs a --rate-limit N/<window>');
    return {};
  }
  const perSecond = /^(\d+)(?:\/s)?$/.exec(raw);
  if (perSecond && Number(perSecond[1]) >= 1 && headers === undefined) return { rateLimitPerSecond: Number(perSecond[1]) };
  const m = /^(\d+)\/(\d+)(ms|s|m)$/.exec(raw);
  const windowMs = m ? Number(m[2]) * (UNIT_MS[m[3] as string] as number) : 0;
  if (!m || windowMs < 1 || windowMs > 86_400_000) {
    throw new UsageError(`--rate-limit must look like N/s (per second) or N/<window> such as 100/10s, 20/1s or 5/500ms, got ${JSON.stringify(raw)}`);
  }
  return { windowLimit: { limit: Number(m[1]), windowMs, headers: (headers ?? 'x') as WindowLimit['headers'] } };
}

function parseRatio(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--fail-ratio must be a number from 0 to 1, got ${JSON.stringify(raw)}`);
  return n;
}

function parsePagination(raw: string | undefined): PaginationStyle | undefined {
  if (raw === undefined) return undefined;
  if (!(PAGINATION_STYLES as readonly string[]).includes(raw)) throw new UsageError(`--pagination must be one of ${PAGINATION_STYLES.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as PaginationStyle;
}

function parseFaults(raw: string | boolean | string[] | boolean[] | undefined): FaultRule[] | undefined {
  if (raw === undefined) return undefined;
  const specs = (Array.isArray(raw) ? raw : [raw]).filter((s): s is string => typeof s === 'string');
  try {
    return specs.map(parseFaultSpec);
  } catch (err) {
    if (err instanceof FaultSpecError) throw new UsageError(err.message);
    throw err;
  }
}

function mebibytes(n: number | undefined): number | undefined {
  return n === undefined ? undefined : n * 1024 * 1024;
}

/** Turns `recomart mock-api` flags into server options; a UsageError names any bad value. */
export function parseMockApiArgs(argv: readonly string[]): MockApiInput {
  const flags = parseFlags('mock-api', argv, OPTIONS);
  const str = (name: string) => stringFlag(flags, name);
  const seed = str('seed');
  if (seed !== undefined && seed === '') throw new UsageError('--seed must not be empty');
  const token = str('token');
  if (token !== undefined && token === '') throw new UsageError('--token must not be empty');
  return {
    port: intFlag('port', str('port'), 0, 65535),
    host: str('host'),
    products: intFlag('products', str('products'), 0, 10_000_000),
    seed,
    pagination: parsePagination(str('pagination')),
    maxPageSize: intFlag('max-page-size', str('max-page-size'), 1, 100_000),
    params: {
      offset: nameFlag('offset-param', str('offset-param')),
      limit: nameFlag('limit-param', str('limit-param')),
      page: nameFlag('page-param', str('page-param')),
      perPage: nameFlag('per-page-param', str('per-page-param')),
      cursor: nameFlag('cursor-param', str('cursor-param')),
    },
    itemsField: nameFlag('items-field', str('items-field')),
    totalField: nameFlag('total-field', str('total-field')),
    cursorField: nameFlag('cursor-field', str('cursor-field')),
    rename: parseRename(str('rename')),
    token,
    ...parseRateLimit(str('rate-limit'), str('rate-limit-headers')),
    latencyMs: intFlag('latency-ms', str('latency-ms'), 0, 600_000),
    failRatio: parseRatio(str('fail-ratio')),
    pageCacheBytes: mebibytes(intFlag('page-cache-mb', str('page-cache-mb'), 0, 65_536)),
    faults: parseFaults((flags.values as Record<string, string | boolean | string[] | undefined>).fault),
  };
}

async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  const input = parseMockApiArgs(argv);
  const api = await startMockProductApi(input);
  const o = api.options;
  io.stdout.write(`mock product API listening on ${api.url} (port ${api.port}; ${o.products} products, ${o.pagination} pagination)\n`);
  await untilAborted(io.signal);
  await api.close();
  return 0;
}

export const mockApiCommand: Command = {
  name: 'mock-api',
  summary: 'the simulated product REST API, with fault injection',
  help: HELP,
  run,
};
