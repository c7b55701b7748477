import { describe, expect, it } from 'vitest';
import { UsageError } from '@recomart/command';
import { DEFAULT_OPTIONS, parseMockApiArgs, resolveOptions } from '@recomart/mock-product-api';

describe('recomart mock-api flags', () => {
  it('maps every flag onto the server options', () => {
    const o = parseMockApiArgs([
      '--port', '0', '--host', '127.0.0.1', '--products', '1000000', '--seed', 'abc', '--pagination', 'cursor',
      '--token', 't0ken', '--rate-limit', '20/s', '--latency-ms', '5', '--fail-ratio', '0.1',
      '--offset-param', 'skip', '--items-field', 'products', '--rename', 'product_id=id,popularity_score=rating',
      '--fault', '503@2x2', '--fault', 'reset',
    ]);
    expect(o).toMatchObject({
      port: 0, products: 1_000_000, seed: 'abc', pagination: 'cursor', token: 't0ken', rateLimitPerSecond: 20, latencyMs: 5, failRatio: 0.1,
      itemsField: 'products', rename: { product_id: 'id', popularity_score: 'rating' },
      faults: [{ fault: '503', page: 2, times: 2 }, { fault: 'reset' }],
    });
    expect(o.params?.offset).toBe('skip');
  });

  it('reads a fixed window per client, with the headers asked for', () => {
    expect(parseMockApiArgs(['--rate-limit', '100/10s']).windowLimit).toEqual({ limit: 100, windowMs: 10_000, headers: 'x' });
    expect(parseMockApiArgs(['--rate-limit', '5/500ms', '--rate-limit-headers', 'ietf']).windowLimit).toEqual({ limit: 5, windowMs: 500, headers: 'ietf' });
    expect(parseMockApiArgs(['--rate-limit', '0/1m']).windowLimit).toEqual({ limit: 0, windowMs: 60_000, headers: 'x' });
  });

  it('leaves every option it was not given at its default', () => {
    expect(resolveOptions(parseMockApiArgs([]))).toEqual(DEFAULT_OPTIONS);
  });

  it.each([
    [['--pagination', 'scroll'], '--pagination must be one of offset, page, cursor, link, got "scroll"'],
    [['--rate-limit', 'fast'], '--rate-limit must look like N/s (per second) or N/<window> such as 100/10s, 20/1s or 5/500ms, got "fast"'],
    [['--rate-limit', '10/0s'], '--rate-limit must look like N/s (per second) or N/<window> such as 100/10s, 20/1s or 5/500ms, got "10/0s"'],
    [['--rate-limit', '10/10s', '--rate-limit-headers', 'github'], '--rate-limit-headers must be x, ietf or none, got "github"'],
    [['--rate-limit-headers', 'ietf'], '--rate-limit-headers needs a --rate-limit N/<window>'],
    [['--fail-ratio', '2'], '--fail-ratio must be a number from 0 to 1, got "2"'],
    [['--products', '1e6'], '--products must be a whole number from 0 to 10000000, got "1e6"'],
    [['--port', '70000'], '--port must be a whole number from 0 to 65535, got "70000"'],
    [['--fault', 'boom'], 'fault must be a status from 400 to 599 or one of reset, truncate, html, deep-json, repeat, wrong-types, stall, short-page, got "boom"'],
    [['--rename', 'id'], '--rename must be comma-separated field=name pairs, got "id"'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with a one-line reason', (argv, message) => {
    expect(() => parseMockApiArgs(argv)).toThrow(new UsageError(message));
  });
});
