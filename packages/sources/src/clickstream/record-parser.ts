import type { Transform } from 'node:stream';
import csvParser from 'csv-parser';

/** One parsed record: cells by header name, as raw bytes (views into the parser's buffer, valid during the call). */
export type RawRecord = Readonly<Record<string, Buffer | undefined>>;

export interface RecordHandlers {
  /** The header names in file order, decoded as UTF-8, before any sanitising. */
  onHeader(names: readonly string[]): void;
  /**
   * A data record. `cells` is how many fields it had (0 for a blank line);
   * `byteOffset` is where it starts in the parsed text.
   */
  onRecord(record: RawRecord, cells: number, byteOffset: number): void;
}

interface ParsedRow {
  row: RawRecord;
  byteOffset: number;
}

/** How many cells a csv-parser row holds: one key per cell (extra cells are named `_5`, `_6`…). */
function cellCount(row: RawRecord): number {
  let n = 0;
  for (const key in row) if (Object.hasOwn(row, key)) n++;
  return n;
}

/**
 * The CSV reader every clickstream byte goes through (and the csv-spectrum
 * corpus test too): csv-parser in raw mode, so cells stay bytes and the good
 * path never builds strings; ragged records are seen without csv-parser's
 * strict mode (which would fail the whole stream); byte offsets let the caller
 * find a record's original text. A record longer than `maxRowBytes` fails the
 * stream with csv-parser's "Row exceeds the maximum size".
 *
 * A record's field count is read from the record itself, never from state
 * kept while csv-parser parsed it: rows are parsed a whole chunk ahead of
 * their 'data' events whenever the consumer pauses (the rejects file's
 * backpressure), so any such state would belong to a later row.
 * The header must have distinct, non-dangerous names for the count to be the
 * cell count; `checkHeader` fails any other header before its first record.
 */
export function createRecordParser(maxRowBytes: number, handlers: RecordHandlers): Transform {
  const names: string[] = [];
  const parser = csvParser({
    raw: true,
    outputByteOffset: true,
    maxRowBytes,
    strict: false,
    mapHeaders: ({ header }) => {
      // raw mode hands header cells over as Buffers too.
      const name = (header as unknown as Buffer | string).toString();
      names.push(name);
      return name;
    },
  });
  parser.on('headers', () => handlers.onHeader(names));
  parser.on('data', (r: ParsedRow) => handlers.onRecord(r.row, cellCount(r.row), r.byteOffset));
  return parser;
}
