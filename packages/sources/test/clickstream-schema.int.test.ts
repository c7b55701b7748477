import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SchemaMismatchError, classifyError } from '@recomart/jobs';
import { DATE, GOOD, HEADER, clickstreamHarness, csv, sha256, type ClickstreamHarness } from './clickstream-harness.js';

const EXPECT_HEADER = 'expected exactly the columns user_id,product_id,event_type,timestamp,device in any order';
const EXPECT_TEXT = 'expected UTF-8 CSV text starting with the header user_id,product_id,event_type,timestamp,device';
const EXPECT_CLOSED = 'expected every quoted field to close before the end of its row';
const at = (name: string, line: number) => `clickstream/${DATE}/${name} line ${line}:`;
const many = (n: number) => Array.from({ length: n }, () => GOOD);

interface Case {
  what: string;
  name: string;
  content: string | Buffer;
  env?: Record<string, string>;
  message: string;
}

const cases: Case[] = [
  {
    what: 'a missing column',
    name: 'events.csv',
    content: csv('user_id,product_id,event_type,timestamp', '1001,2001,view,2024-05-01T10:00:00.000Z'),
    message: `${at('events.csv', 1)} header is missing "device"; ${EXPECT_HEADER}`,
  },
  {
    what: 'an unknown column',
    name: 'events.csv',
    content: csv(`${HEADER},country`, `${GOOD},DE`),
    message: `${at('events.csv', 1)} header has unknown column "country"; ${EXPECT_HEADER}`,
  },
  {
    what: 'a renamed column',
    name: 'events.csv',
    content: csv('user_id,product_id,event_type,timestamp,devise', GOOD),
    message: `${at('events.csv', 1)} header is missing "device", has unknown column "devise"; ${EXPECT_HEADER}`,
  },
  {
    what: 'a duplicate column',
    name: 'events.csv',
    content: csv(`${HEADER},device`, `${GOOD},web`),
    message: `${at('events.csv', 1)} header has duplicate column "device"; ${EXPECT_HEADER}`,
  },
  {
    what: 'a __proto__ column',
    name: 'events.csv',
    content: csv('user_id,product_id,event_type,timestamp,__proto__', GOOD),
    message: `${at('events.csv', 1)} header is missing "device", has unknown column "__proto__"; ${EXPECT_HEADER}`,
  },
  {
    what: 'a JSON file named .csv',
    name: 'events.csv',
    content: '{"user_id":"1001"}\n',
    message: `${at('events.csv', 1)} header is missing "user_id", "product_id", "event_type", "timestamp", "device", has unknown column "{\\"user_id\\":\\"1001\\"}"; ${EXPECT_HEADER}`,
  },
  {
    what: 'an empty file',
    name: 'events.csv',
    content: '',
    message: `${at('events.csv', 1)} empty file; expected the header user_id,product_id,event_type,timestamp,device`,
  },
  {
    what: 'binary data',
    name: 'events.csv',
    content: Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1'),
    message: `${at('events.csv', 1)} not CSV: binary data (a NUL byte at byte 8); ${EXPECT_TEXT}`,
  },
  {
    what: 'UTF-16 text',
    name: 'events.csv',
    content: Buffer.from(`\ufeff${csv(HEADER, GOOD)}`, 'utf16le'),
    message: `${at('events.csv', 1)} not CSV: UTF-16 text; ${EXPECT_TEXT}`,
  },
  {
    what: 'CR-only line endings',
    name: 'events.csv',
    content: `${HEADER}\r${GOOD}\r`,
    message: `${at('events.csv', 1)} not CSV: lines that end in CR alone; ${EXPECT_TEXT}`,
  },
  {
    what: 'gzip data in a .csv file',
    name: 'events.csv',
    content: gzipSync(csv(HEADER, GOOD)),
    message: `${at('events.csv', 1)} not CSV: gzip data in a file whose name does not end in .gz; ${EXPECT_TEXT}`,
  },
  {
    what: 'plain text in a .csv.gz file',
    name: 'events.csv.gz',
    content: csv(HEADER, GOOD),
    message: `${at('events.csv.gz', 1)} not valid gzip data (incorrect header check); expected a complete gzip stream, as the name ends in .gz`,
  },
  {
    what: 'a truncated .csv.gz file',
    name: 'events.csv.gz',
    content: gzipSync(csv(HEADER, GOOD, GOOD)).subarray(0, -4),
    message: `${at('events.csv.gz', 4)} not valid gzip data (unexpected end of file); expected a complete gzip stream, as the name ends in .gz`,
  },
  {
    what: 'an unterminated quote that swallows the rest of the file',
    name: 'events.csv',
    content: csv(HEADER, GOOD, '1001,2001,view,"2024-05-01T10:00:00.000Z,web', GOOD, GOOD),
    message: `${at('events.csv', 3)} unterminated quote: this row runs to the end of the file; ${EXPECT_CLOSED}`,
  },
  {
    what: 'an unterminated quote in the last field (the swallowed rows would look valid)',
    name: 'events.csv',
    content: csv(HEADER, GOOD, '1001,2001,view,2024-05-01T10:00:00.000Z,"web', GOOD),
    message: `${at('events.csv', 3)} unterminated quote: this row runs to the end of the file; ${EXPECT_CLOSED}`,
  },
  {
    what: 'an unterminated quote running past CLICKSTREAM_MAX_ROW_BYTES',
    name: 'events.csv',
    env: { CLICKSTREAM_MAX_ROW_BYTES: '64' },
    content: csv(HEADER, GOOD, '"1001,2001,view,2024-05-01T10:00:00.000Z,web', ...many(5)),
    message: `${at('events.csv', 3)} unterminated quote: this row runs past 64 bytes (CLICKSTREAM_MAX_ROW_BYTES) without its closing quote; ${EXPECT_CLOSED}`,
  },
  {
    what: 'a row longer than CLICKSTREAM_MAX_ROW_BYTES',
    name: 'events.csv',
    env: { CLICKSTREAM_MAX_ROW_BYTES: '64' },
    content: csv(HEADER, GOOD, GOOD, `${'9'.repeat(40)},2001,view,2024-05-01T10:00:00.000Z,web`, GOOD),
    message: `${at('events.csv', 4)} row longer than 64 bytes (CLICKSTREAM_MAX_ROW_BYTES); expected rows of user_id,product_id,event_type,timestamp,device shorter than that`,
  },
  {
    what: 'a header longer than CLICKSTREAM_MAX_ROW_BYTES',
    name: 'events.csv',
    env: { CLICKSTREAM_MAX_ROW_BYTES: '64' },
    content: csv(`${HEADER},${'x'.repeat(40)}`, GOOD),
    message: `${at('events.csv', 1)} row longer than 64 bytes (CLICKSTREAM_MAX_ROW_BYTES); expected rows of user_id,product_id,event_type,timestamp,device shorter than that`,
  },
  {
    what: 'a ragged file (most rows without the header\'s fields)',
    name: 'events.csv',
    content: csv(HEADER, GOOD, `${GOOD},x`, `${GOOD},x`, `${GOOD},x`),
    message: `${at('events.csv', 3)} ragged file: 3 of the first 4 rows do not have the header's 5 fields (this line has 6); expected 5 fields in every row, as in the header user_id,product_id,event_type,timestamp,device`,
  },
];

describe('clickstream schema mismatch: quarantined byte for byte, failed for good with file, line and expectation', () => {
  let h: ClickstreamHarness;
  beforeEach(async () => {
    h = await clickstreamHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  for (const c of cases) {
    it(c.what, async () => {
      const landed = await h.land(c.name, c.content);
      const err = await h.runError(c.env ? { env: c.env } : {});
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err.message).toBe(c.message);
      expect(classifyError(err).retryable).toBe(false);
      // Nothing was committed; the bytes and the reason are in quarantine.
      expect(await h.versions()).toEqual([]);
      const q = await h.quarantine();
      expect(q.reason.reason).toBe(c.message);
      expect(sha256(q.files.get(c.name) ?? Buffer.alloc(0))).toBe(sha256(await readFile(landed)));
      expect(await h.staging()).toEqual([]);
    });
  }

  it('a ragged file is judged on its first 1000 rows, however long it is', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? GOOD : `${GOOD},x`));
    await h.land('events.csv', csv(HEADER, ...rows));
    const err = await h.runError();
    expect(err.message).toBe(
      `${at('events.csv', 3)} ragged file: 666 of the first 1000 rows do not have the header's 5 fields (this line has 6); expected 5 fields in every row, as in the header user_id,product_id,event_type,timestamp,device`,
    );
  });

  it('keeps every file of the run in quarantine, the broken one whole, and the later ones untouched in landing', async () => {
    const good = csv(HEADER, ...many(50));
    const broken = csv(HEADER, ...many(2000), 'not,a,row"', ...many(1000));
    await h.land('a.csv', good);
    await h.land('b.csv.gz', gzipSync(broken));
    await h.land('c.csv', good);
    const err = await h.runError();
    expect(err.message).toBe(`${at('b.csv.gz', 2002)} unterminated quote: this row runs to the end of the file; ${EXPECT_CLOSED}`);
    const q = await h.quarantine();
    expect([...q.files.keys()].sort()).toEqual(['_rejected.ndjson', 'a.csv', 'b.csv.gz']);
    expect(sha256(q.files.get('b.csv.gz') as Buffer)).toBe(sha256(gzipSync(broken)));
    expect(q.reason.details).toEqual({ file: 'b.csv.gz', before: ['a.csv'] });
  });

  it('works after the landing file is fixed and the job retried', async () => {
    await h.land('events.csv', csv('user_id,product_id,event_type,timestamp,devise', GOOD));
    expect(await h.runError()).toBeInstanceOf(SchemaMismatchError);
    await h.land('events.csv', csv(HEADER, GOOD));
    const result = await h.run();
    expect(result).toMatchObject({ status: 'committed', version: 1, records: 1, rejected: 0 });
  });

  it('stops parsing at the mismatch but still copies a large file to its last byte', async () => {
    const content = Buffer.from(csv('user_id,product_id,event_type,timestamp,devise', ...many(40_000)));
    await h.land('events.csv', content);
    await h.runError();
    const q = await h.quarantine();
    expect(q.files.get('events.csv')?.length).toBe(content.length);
    expect(sha256(q.files.get('events.csv') as Buffer)).toBe(sha256(content));
  });
});
