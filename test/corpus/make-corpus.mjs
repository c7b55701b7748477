#!/usr/bin/env node
// Writes the bad-input corpus of clickstream exports into test/corpus/files/.
// Deterministic: running it again gives the same bytes (the files are committed;
// `node test/corpus/make-corpus.mjs --check` fails when they differ from what it would write).
// The 10 MB field is not committed: the test builds it with `bigFieldFile()` from corpus-files.ts.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'files');
const HEADER = 'user_id,product_id,event_type,timestamp,device';
const EVENTS = ['view', 'view', 'click', 'view', 'add_to_cart'];
const DEVICES = ['web', 'ios', 'android'];

/** `n` valid rows on `date` (one every 4 minutes from 00:01), as CSV lines without line ends. */
function rows(date, n, from = 0) {
  const out = [];
  for (let i = from; i < from + n; i++) {
    const minute = 1 + i * 4;
    const ts = `${date}T${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00.000Z`;
    out.push(`u${1000 + (i % 37)},p${2000 + ((i * 7) % 53)},${EVENTS[i % EVENTS.length]},${ts},${DEVICES[i % DEVICES.length]}`);
  }
  return out;
}

const lf = (lines) => Buffer.from(`${lines.join('\n')}\n`);

/** name → bytes */
const files = {
  // A UTF-8 byte order mark before the header: fine.
  'bom.csv': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), lf([HEADER, ...rows('2024-05-01', 20)])]),
  // Windows line ends: fine.
  'crlf.csv': Buffer.from(`${[HEADER, ...rows('2024-05-02', 20)].join('\r\n')}\r\n`),
  // Classic Mac line ends (CR alone).
  'cr-only.csv': Buffer.from(`${[HEADER, ...rows('2024-05-03', 20)].join('\r')}\r`),
  // A quote opened on line 4 that never closes: it swallows the rest of the file.
  'unterminated-quote.csv': lf([HEADER, ...rows('2024-05-04', 2), 'u1,"p2,view,2024-05-04T10:00:00.000Z,web', ...rows('2024-05-04', 20, 2)]),
  // 300 good rows, one with a field too many, one on the wrong day: committed with 2 rejected (under 1 %).
  'ragged-rows.csv': lf([HEADER, ...rows('2024-05-05', 150), 'u1,p2,view,2024-05-05T10:00:00.000Z,web,extra', ...rows('2024-05-05', 150, 150), 'u1,p2,view,2024-05-04T23:59:59.999Z,web']),
  // Most rows have 3 fields: not the contract's shape.
  'ragged-file.csv': lf([HEADER, ...rows('2024-05-06', 20).map((r) => r.split(',').slice(0, 3).join(','))]),
  // `device` twice.
  'duplicate-headers.csv': lf([`${HEADER},device`, ...rows('2024-05-07', 20).map((r) => `${r},web`)]),
  // A `__proto__` column where `device` should be (an object-keyed parser would pollute prototypes).
  'proto-header.csv': lf(['user_id,product_id,event_type,timestamp,__proto__', ...rows('2024-05-08', 20)]),
  // A NUL byte inside a value.
  'nul-bytes.csv': lf([HEADER, ...rows('2024-05-11', 2), `u1\u0000x,p2,view,2024-05-11T10:00:00.000Z,web`, ...rows('2024-05-11', 20, 2)]),
  // Bytes that are not UTF-8 (0xC3 0x28, 0xFF) inside user ids.
  'invalid-utf8.csv': Buffer.concat([
    lf([HEADER, ...rows('2024-05-12', 200)]),
    Buffer.from('u\xc3(,p1,view,2024-05-12T12:00:00.000Z,web\n', 'latin1'),
    Buffer.from('\xff\xfe-user,p1,click,2024-05-12T12:01:00.000Z,ios\n', 'latin1'),
  ]),
  // Zero bytes.
  'empty.csv': Buffer.alloc(0),
  // The header and nothing else.
  'header-only.csv': lf([HEADER]),
  // A gzip cut off in the middle.
  'truncated.csv.gz': (() => {
    const gz = gzipSync(lf([HEADER, ...rows('2024-05-15', 400)]), { level: 6 });
    return gz.subarray(0, Math.floor(gz.length / 2));
  })(),
  // Named .gz, but plain text.
  'not-gzip.csv.gz': lf([HEADER, ...rows('2024-05-16', 20)]),
  // Another export altogether.
  'other-schema.csv': lf(['order_id,amount,currency,created_at', 'o1,19.99,EUR,2024-05-17T10:00:00Z', 'o2,5.00,EUR,2024-05-17T11:00:00Z']),
  // Every timestamp on the day before the partition's date.
  'wrong-day.csv': lf([HEADER, ...rows('2024-05-17', 40)]),
  // An export cut off mid-row (`head -c`), no _SUCCESS marker: still being written, so it is retried, never committed.
  'torn-last-line.csv': Buffer.from(`${[HEADER, ...rows('2024-05-20', 20)].join('\n')}\nu1001,p2001,click,2024-05-20T11:00:00.000Z,andro`),
  // An upper-case extension: an export like any other.
  'upper-case.CSV': lf([HEADER, ...rows('2024-05-24', 20)]),
  // Ids beyond 2^53 (and beyond 64 bits): kept as the strings they are.
  'big-ids.csv': lf([
    HEADER,
    '9007199254740993,9007199254740995,view,2024-05-19T10:00:00.000Z,web',
    '123456789012345678901234567890,18446744073709551617,click,2024-05-19T10:01:00.000Z,ios',
    '-0,00042,add_to_cart,2024-05-19T10:02:00.000Z,android',
    ...rows('2024-05-19', 20),
  ]),
};

const check = process.argv.includes('--check');
mkdirSync(DIR, { recursive: true });
let stale = 0;
for (const [name, bytes] of Object.entries(files)) {
  const file = path.join(DIR, name);
  if (check) {
    if (!existsSync(file) || !readFileSync(file).equals(bytes)) {
      console.error(`stale: ${name}`);
      stale += 1;
    }
  } else {
    writeFileSync(file, bytes);
  }
}
if (stale > 0) process.exit(1);
console.log(`${check ? 'checked' : 'wrote'} ${Object.keys(files).length} files in ${path.relative(process.cwd(), DIR)}`);
