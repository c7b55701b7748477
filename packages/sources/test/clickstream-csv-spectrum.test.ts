import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import csvParser from 'csv-parser';
import { FastRecordReader, LineIndex, createRecordParser, type RawRecord, type TextReaderKind } from '@recomart/sources';

// The corpus as shipped by the csv-spectrum package: csvs/<name>.csv with json/<name>.json.
const corpus = path.dirname(createRequire(import.meta.url).resolve('csv-spectrum/package.json'));
const names = readdirSync(path.join(corpus, 'csvs'))
  .filter((f) => f.endsWith('.csv'))
  .map((f) => f.slice(0, -4))
  .sort();

/**
 * The one corpus file csv-parser 3.2.1 itself does not read as expected: in
 * `37°36'37.8"N 121°2'17.9"W`, an unquoted field with quotes inside, it takes
 * the first quote as opening a quoted field that runs to the end of the line.
 * (The expectation file is also wrong: a bare object with a phone number the
 * CSV does not hold, max-mapper/csv-spectrum#20.) For clickstream this is
 * harmless: such a row comes out with too few fields and is rejected. The test
 * pins that ingestion reads it exactly as csv-parser does, so a csv-parser
 * upgrade that changes this shows up here.
 */
const CSV_PARSER_DEVIATION = 'location_coordinates';

function expectedOf(name: string): Array<Record<string, string>> {
  return JSON.parse(readFileSync(path.join(corpus, 'json', `${name}.json`), 'utf8')) as Array<Record<string, string>>;
}

/** What csv-parser alone, with its defaults, makes of `csv` (strings, first line as header). */
async function csvParserAlone(csv: Buffer): Promise<Array<Record<string, string>>> {
  const rows: Array<Record<string, string>> = [];
  const parser = csvParser();
  parser.on('data', (row: Record<string, string>) => rows.push(row));
  await Promise.all([pipeline(Readable.from([csv]), parser), finished(parser)]);
  return rows;
}

/**
 * Parses `csv` exactly as ingestion does, fed in chunks of `size` bytes: with the fast reader (plain lines
 * from the bytes, quoted records through csv-parser), or csv-parser over the whole text (LineIndex in front).
 */
async function parse(csv: Buffer, size: number, reader: TextReaderKind): Promise<Array<Record<string, string>>> {
  const header: string[] = [];
  const rows: Array<Record<string, string>> = [];
  const onHeader = (n: readonly string[]) => header.push(...n);
  const onRecord = (record: RawRecord) => rows.push(Object.fromEntries(header.map((h) => [h, record[h]?.toString('utf8') ?? ''])));
  const chunks: Buffer[] = [];
  for (let i = 0; i < csv.length; i += size) chunks.push(csv.subarray(i, i + size));
  if (reader === 'fast') {
    const fast = new FastRecordReader({ maxRowBytes: 1 << 20, handlers: { onHeader, onRecord, onPlain: (_b, _c, _o, _n, _off, record) => onRecord(record()) } });
    await pipeline(Readable.from(chunks), fast);
    return rows;
  }
  const index = new LineIndex();
  const parser = createRecordParser(1 << 20, { onHeader, onRecord });
  await Promise.all([pipeline(Readable.from(chunks), index, parser), finished(parser)]);
  return rows;
}

describe('csv-spectrum corpus through the ingestion parser', () => {
  it('has the corpus files', () => {
    expect(names.length).toBeGreaterThanOrEqual(12);
  });

  for (const reader of ['fast', 'csv-parser'] as const) {
    for (const name of names.filter((n) => n !== CSV_PARSER_DEVIATION)) {
      it(`${name} parses as its expected JSON says, whole and one byte at a time (${reader} reader)`, async () => {
        const csv = readFileSync(path.join(corpus, 'csvs', `${name}.csv`));
        const expected = expectedOf(name);
        expect(await parse(csv, csv.length || 1, reader)).toEqual(expected);
        expect(await parse(csv, 1, reader)).toEqual(expected);
      });
    }

    it(`${CSV_PARSER_DEVIATION} parses exactly as csv-parser alone reads it (a known csv-parser deviation; ${reader} reader)`, async () => {
      const csv = readFileSync(path.join(corpus, 'csvs', `${CSV_PARSER_DEVIATION}.csv`));
      const alone = await csvParserAlone(csv);
      expect(alone).toEqual([
        { 'Contact Phone Number': '2095257564', 'Location Coordinates': `37\ufffd36'37.8"N 121\ufffd2'17.9"W,Modesto,Stanislaus` },
      ]);
      expect(await parse(csv, csv.length, reader)).toEqual([{ ...alone[0], Cities: '', Counties: '' }]);
      expect(await parse(csv, 1, reader)).toEqual([{ ...alone[0], Cities: '', Counties: '' }]);
    });
  }
});
