import { describe, expect, it } from 'vitest';
import { credentialsMatch, parseBasicAuth } from '../src/basic-auth.js';

const header = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('basic auth', () => {
  it('reads user and password, the password may hold colons and any Unicode', () => {
    expect(parseBasicAuth(header('alice:pa:ss wörd'))).toEqual({ user: 'alice', password: 'pa:ss wörd' });
    expect(parseBasicAuth(header('alice:'))).toEqual({ user: 'alice', password: '' });
  });

  it('rejects anything that is not basic credentials', () => {
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(parseBasicAuth('Bearer abc')).toBeUndefined();
    expect(parseBasicAuth(header('no-colon'))).toBeUndefined();
    expect(parseBasicAuth('Basic !!!')).toBeUndefined();
  });

  it('matches only the exact user and password, whatever their lengths', () => {
    const expected = { user: 'alice', password: 'correct horse' };
    expect(credentialsMatch({ user: 'alice', password: 'correct horse' }, expected)).toBe(true);
    expect(credentialsMatch({ user: 'alice', password: 'correct hors' }, expected)).toBe(false);
    expect(credentialsMatch({ user: 'alice', password: 'correct horse battery' }, expected)).toBe(false);
    expect(credentialsMatch({ user: 'Alice', password: 'correct horse' }, expected)).toBe(false);
    expect(credentialsMatch({ user: '', password: '' }, expected)).toBe(false);
  });
});
