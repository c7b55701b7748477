import { describe, expect, it } from 'vitest';
import { checkHeader, HEADER_EXPECTED, sniffNotCsv } from '@recomart/sources';

describe('checkHeader', () => {
  it('accepts the five columns in any order', () => {
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', 'device'])).toBeUndefined();
    expect(checkHeader(['device', 'timestamp', 'event_type', 'product_id', 'user_id'])).toBeUndefined();
  });

  it('names what is missing, unknown and duplicated, in that order', () => {
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp'])).toBe('header is missing "device"');
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', 'device', 'country'])).toBe('header has unknown column "country"');
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', 'devise'])).toBe('header is missing "device", has unknown column "devise"');
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', 'device', 'device'])).toBe('header has duplicate column "device"');
    expect(checkHeader(['a', 'b'])).toBe(
      'header is missing "user_id", "product_id", "event_type", "timestamp", "device", has unknown columns "a", "b"',
    );
  });

  it('refuses prototype-polluting names like any unknown column', () => {
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', '__proto__'])).toBe('header is missing "device", has unknown column "__proto__"');
    expect(checkHeader(['user_id', 'product_id', 'event_type', 'timestamp', 'device', 'constructor'])).toBe('header has unknown column "constructor"');
  });

  it('is case- and space-sensitive (the contract names are exact)', () => {
    expect(checkHeader(['User_Id', 'product_id', 'event_type', 'timestamp', ' device'])).toBe(
      'header is missing "user_id", "device", has unknown columns "User_Id", " device"',
    );
  });

  it('says what is expected', () => {
    expect(HEADER_EXPECTED).toBe('exactly the columns user_id,product_id,event_type,timestamp,device in any order');
  });
});

describe('sniffNotCsv', () => {
  const text = Buffer.from('user_id,product_id\r\n1,2\n');

  it('passes CSV text with LF or CRLF line endings', () => {
    expect(sniffNotCsv(text, false)).toBeUndefined();
    expect(sniffNotCsv(Buffer.from('a,b'), false)).toBeUndefined();
  });

  it('names gzip, UTF-16, binary data and CR-only line endings', () => {
    expect(sniffNotCsv(Buffer.from([0x1f, 0x8b, 8, 0]), false)).toBe('gzip data in a file whose name does not end in .gz');
    expect(sniffNotCsv(Buffer.from([0x1f, 0x8b, 8, 0]), true)).toBe('gzip data inside the gzip data (compressed twice)');
    expect(sniffNotCsv(Buffer.from('\ufeffa,b', 'utf16le'), false)).toBe('UTF-16 text');
    expect(sniffNotCsv(Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'), false)).toBe('binary data (a NUL byte at byte 8)');
    expect(sniffNotCsv(Buffer.from('a,b\r1,2\r'), false)).toBe('lines that end in CR alone');
  });
});
