import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recomart/jobs';
import { echoInput } from '@recomart/logging';
import { checkDate, checkFileName, checkRunId, checkSourceName, partitionPath, quarantinePath, resolveInside, versionPath } from '@recomart/lake';

describe('source names', () => {
  it.each(['clickstream', 'products', 'a', 'a-b_c9', 'x'.repeat(64)])('accepts %j', (name) => {
    expect(checkSourceName(name)).toBe(name);
  });

  it.each(['../x', 'a/b', '%2e%2e', '..\\x', 'a\u0000b', '', 'x'.repeat(65), 'Clickstream', '9lives', '-x', '.staging', ' x'])(
    'refuses %j with the value in the message',
    (name) => {
      expect(() => checkSourceName(name)).toThrow(InvalidInputError);
      expect(() => checkSourceName(name)).toThrow(`source must match ^[a-z][a-z0-9_-]{0,63}$, got ${JSON.stringify(name)}`);
    },
  );

  it('refuses a value that is not a string', () => {
    expect(() => checkSourceName(42)).toThrow('source must match ^[a-z][a-z0-9_-]{0,63}$, got 42');
  });
});

describe('dates', () => {
  it.each(['2024-02-29', '2023-12-31', '1970-01-01'])('accepts %j', (d) => expect(checkDate(d)).toBe(d));

  it.each(['2024-02-30', '2024-2-3', '2023-02-29', '2024-13-01', '2024-00-10', '', '../2024-01-01', '2024-01-01/..', '2024-01-01\u0000'])(
    'refuses %j',
    (d) => {
      expect(() => checkDate(d)).toThrow(InvalidInputError);
      expect(() => checkDate(d)).toThrow(`date must be a calendar date as YYYY-MM-DD, got ${JSON.stringify(d)}`);
    },
  );
});

describe('file names inside a version', () => {
  it.each(['events-000.csv.gz', 'pages/0001.json', 'a/b/c.d', 'x_y=1,z+2@3', 'file.tar.gz'])('accepts %j', (name) => {
    expect(checkFileName(name)).toBe(name);
  });

  it.each([
    ['../x', 'it has a ".." segment'],
    ['a/../../x', 'it has a ".." segment'],
    ['..', 'it has a ".." segment'],
    ['./a', 'it has a "." segment'],
    ['..\\x', 'it contains a backslash'],
    ['%2e%2e', 'it contains "%" (percent-encoded names are refused)'],
    ['%2e%2e/x', 'it contains "%" (percent-encoded names are refused)'],
    ['a%2fb', 'it contains "%" (percent-encoded names are refused)'],
    ['a\u0000b', 'it contains a NUL character'],
    ['', 'it is empty'],
    ['/etc/passwd', 'it is an absolute path'],
    ['a//b', 'it has an empty path segment'],
    ['a/', 'it has an empty path segment'],
    ['.hidden', 'segment ".hidden" has a character other than letters, digits and ._-=+@, or starts with "."'],
    ['a b', 'segment "a b" has a character other than letters, digits and ._-=+@, or starts with "."'],
    ['x'.repeat(513), 'it is longer than 512 characters'],
    [`${'x'.repeat(256)}`, 'a segment is longer than 255 bytes'],
    [Array.from({ length: 17 }, () => 'd').join('/'), 'it is nested deeper than 16 folders'],
    ['_manifest.json', 'the name is reserved for the lake'],
    ['_manifest.json.sha256', 'the name is reserved for the lake'],
    ['_reason.json', 'the name is reserved for the lake'],
  ])('refuses %j: %s', (name, reason) => {
    expect(() => checkFileName(name)).toThrow(InvalidInputError);
    expect(() => checkFileName(name)).toThrow(`file name ${echoInput(name)} is refused: ${reason}`);
  });
});

describe('run ids', () => {
  it.each(['run-1', 'clickstream__2024-01-01:3', 'a.b@c'])('accepts %j', (id) => expect(checkRunId(id)).toBe(id));
  it.each(['../x', 'a/b', '.x', '', 'a\u0000', 'x'.repeat(201)])('refuses %j', (id) => {
    expect(() => checkRunId(id)).toThrow(`runId must match ^[A-Za-z0-9_][A-Za-z0-9._:@=+-]{0,199}$, got ${echoInput(id)}`);
  });
});

describe('paths', () => {
  const root = path.resolve('/data');

  it('lays partitions out as raw/<source>/<yyyy>/<mm>/<dd>/v<N>', () => {
    expect(partitionPath(root, 'clickstream', '2024-03-09')).toBe(path.join(root, 'raw', 'clickstream', '2024', '03', '09'));
    expect(versionPath(root, 'products', '2024-12-31', 3)).toBe(path.join(root, 'raw', 'products', '2024', '12', '31', 'v3'));
    expect(quarantinePath(root, 'clickstream', '2024-03-09', 'run-1')).toBe(path.join(root, 'quarantine', 'clickstream', '2024-03-09', 'run-1'));
  });

  it('refuses a version number below 1', () => {
    expect(() => versionPath(root, 'products', '2024-12-31', 0)).toThrow('version must be a whole number from 1, got 0');
  });

  it('keeps every resolved path under its root', () => {
    expect(resolveInside(root, 'a', 'b')).toBe(path.join(root, 'a', 'b'));
    expect(() => resolveInside(root, '..', 'x')).toThrow(`path "../x" resolves outside ${root}`);
    expect(() => resolveInside(root, 'a', '..')).toThrow(InvalidInputError);
    expect(() => resolveInside(root, '/etc')).toThrow(InvalidInputError);
  });
});
