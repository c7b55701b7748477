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

/** What `RecordParser.parse` found in one record's bytes. */
export type ParsedRecord = { header: readonly string[] } | { record: RawRecord; cells: number };

/** csv-parser driven one whole record at a time, synchronously (see `createRecordParserSync`). */
export interface RecordParser {
  /**
   * Parses the bytes of exactly one record: the header first, then data
   * records, each from its first byte to its line ending (or to the end of the
   * text, with `last`). csv-parser unescapes `""` in place: pass a copy.
   */
  parse(bytes: Buffer, last: boolean): ParsedRecord;
}

/**
 * csv-parser in raw mode, as `createRecordParser` configures it, fed one
 * whole record at a time by the fast path's scanner (which finds record ends
 * by quote parity, as csv-parser does, and enforces the row size limit): the
 * parser of record for the header and every quoted record. It is driven
 * through its Transform implementation (`_transform`, `_flush`) with `push`
 * taken over, so each record is parsed and handed back synchronously, in
 * order with the plain lines judged around it, with no stream buffering.
 */
export function createRecordParserSync(): RecordParser {
  const names: string[] = [];
  let header: readonly string[] | undefined;
  let row: RawRecord | undefined;
  let failure: Error | undefined;
  const parser = csvParser({
    raw: true,
    strict: false,
    mapHeaders: ({ header: h }) => {
      const name = (h as unknown as Buffer | string).toString();
      names.push(name);
      return name;
    },
  });
  parser.on('headers', () => (header = names));
  parser.push = (chunk: unknown) => {
    row = chunk as RawRecord;
    return true;
  };
  const done = (err?: Error | null) => {
    if (err) failure = err;
  };
  return {
    parse(bytes, last) {
      row = undefined;
      header = undefined;
      parser._transform(bytes, 'binary', done);
      if (last) parser._flush?.(done);
      if (failure) throw failure;
      if (header !== undefined) return { header };
      if (row === undefined) throw new Error('csv-parser found no record in a whole record');
      return { record: row, cells: cellCount(row) };
    },
  };
}
