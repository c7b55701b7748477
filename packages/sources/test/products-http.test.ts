import { describe, expect, it } from 'vitest';
import { apiMessage } from '../src/products/api-message.js';
import { fullJitterDelay, MAX_BACKOFF_MS } from '../src/products/backoff.js';
import { nextLink } from '../src/products/link-header.js';
import { publicUrl } from '../src/products/public-url.js';
import { parseRetryAfter } from '../src/products/retry-after.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-03-01T12:00:00Z');
  it('reads whole seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });
  it('reads an HTTP date in the future', () => {
    expect(parseRetryAfter('Fri, 01 Mar 2024 12:00:05 GMT', now)).toBe(5000);
  });
  it('reads a negative value, a date in the past or now, and anything unreadable as no header (issue 12.7)', () => {
    for (const v of [null, undefined, '', '1.5', '-3', '-86400', 'soon', 'Fri, 01 Mar 2024 11:00:00 GMT', 'Fri, 01 Mar 2024 12:00:00 GMT']) {
      expect(parseRetryAfter(v, now), String(v)).toBeUndefined();
    }
  });
  it('reads ten years away as ten years (clamping is the caller\'s)', () => {
    expect(parseRetryAfter(String(10 * 365 * 86400), now)).toBe(10 * 365 * 86400 * 1000);
    expect(parseRetryAfter('Sat, 01 Mar 2034 12:00:00 GMT', now)).toBeGreaterThan(9 * 365 * 86400 * 1000);
  });
});

describe('fullJitterDelay', () => {
  it('spans [0, base·2^retry) and never exceeds the cap', () => {
    expect(fullJitterDelay(0, 100, () => 0)).toBe(0);
    expect(fullJitterDelay(0, 100, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, 100, () => 0.5)).toBe(400);
    expect(fullJitterDelay(40, 100, () => 0.999)).toBeLessThan(MAX_BACKOFF_MS);
  });
});

describe('nextLink', () => {
  const base = 'http://api.test/products?page=1';
  it('finds rel="next" among several links and resolves it against the response URL', () => {
    expect(nextLink('<http://api.test/products?page=2>; rel="next", <http://api.test/products?page=9>; rel="last"', base)).toBe('http://api.test/products?page=2');
    expect(nextLink('</products?page=3>; rel=next', base)).toBe('http://api.test/products?page=3');
    expect(nextLink('<?a=1,2>; title="x, y"; rel="prev next"', base)).toBe('http://api.test/products?a=1,2');
  });
  it('answers undefined without a next link', () => {
    expect(nextLink(null, base)).toBeUndefined();
    expect(nextLink('<http://api.test/products?page=1>; rel="prev"', base)).toBeUndefined();
  });
});

describe('apiMessage', () => {
  const b = (s: string) => Buffer.from(s);
  it('takes the API\'s own explanation out of a JSON body', () => {
    expect(apiMessage(b('{"error":"missing or invalid bearer token","status":401}'))).toBe('missing or invalid bearer token');
    expect(apiMessage(b('{"message":"Not Found"}'))).toBe('Not Found');
    expect(apiMessage(b('{"error":{"code":42,"message":"quota exceeded"}}'))).toBe('quota exceeded');
  });
  it('falls back to the text, on one line, without tags', () => {
    expect(apiMessage(b('<html><h1>Forbidden</h1>\n<p>go away</p></html>'))).toBe('Forbidden go away');
    expect(apiMessage(b(''))).toBe('');
    expect(apiMessage(b('x'.repeat(500)))).toHaveLength(200);
  });
});

describe('publicUrl', () => {
  it('drops URL credentials, masks credential-like query values and known secrets', () => {
    expect(publicUrl('http://u:p4ss@h.test/products?api_key=abc&offset=0', [])).toBe('http://h.test/products?api_key=%5BREDACTED%5D&offset=0');
    expect(publicUrl('http://h.test/products?q=tok-123456', ['tok-123456'])).toBe('http://h.test/products?q=[REDACTED]');
  });
});
