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

/**
 * The CSV reader every clickstream byte goes through (and the csv-spectrum
 * corpus test too): csv-parser in raw mode, so cells stay bytes and the good
 * path never builds strings; `mapValues` only counts the fields, so ragged
 * records are seen without csv-parser's strict mode (which would fail the
 * whole stream); byte offsets let the caller find a record's original text.
 * A record longer than `maxRowBytes` fails the stream with csv-parser's
 * "Row exceeds the maximum size".
 */
export function createRecordParser(maxRowBytes: number, handlers: RecordHandlers): Transform {
  const names: string[] = [];
  let cells = 0;
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
    mapValues: ({ index, value }: { index: number; value: unknown }) => {
      cells = index + 1;
      return value;
    },
  });
  parser.on('headers', () => handlers.onHeader(names));
  parser.on('data', (r: ParsedRow) => {
    const n = cells;
    cells = 0;
    handlers.onRecord(r.row, n, r.byteOffset);
  });
  return parser;
}
