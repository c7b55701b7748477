import type { Writable } from 'node:stream';

/** Which reader parses a clickstream text (see file-ingest). */
export type TextReaderKind = 'fast' | 'csv-parser';

/**
 * The stage that reads a file's (decompressed) CSV text into records for the
 * validator, and answers where a record came from. Two implementations give
 * the same results: `FastRecordReader` (plain lines judged from the bytes,
 * the header and quoted records through csv-parser) and `CsvParserReader`
 * (csv-parser over the whole text: the oracle the differential test compares
 * the fast path with, selectable with `parser: 'csv-parser'`).
 */
export interface TextReader {
  /** Where the text goes. */
  readonly input: Writable;
  /** Settles when the whole text has been read (or the reader failed or was stopped). */
  readonly done: Promise<void>;
  /** Lines of text so far; a last line without a line ending counts. */
  readonly lines: number;
  /** Blank lines after the header (not rows). */
  readonly blankLines: number;
  /** Line ends inside quoted fields: lines that continue the header or a row. */
  readonly quotedLineBreaks: number;
  /** The line being read (for messages about where the text broke off). */
  readonly currentLine: number;
  /** Whether the text so far ends with a line ending (false for an empty text). */
  readonly lastLineTerminated: boolean;
  /** The 1-based line a record handed over starts on (`offset` is the record's, as handed over). */
  lineAt(offset: number): number;
  /** The original text of a record handed over, without its line ending. */
  recordAt(offset: number): string;
  /** Says that records before `offset` need no `lineAt`/`recordAt` any more. */
  release(offset: number): void;
  /** Stops reading: no record is handed over after this. */
  stop(err: Error): void;
  /** Holds the text after the current record (or chunk) until `wait` calls its argument. */
  holdUntil(wait: (resume: () => void) => void): void;
  /** After "Row exceeds the maximum size": the line of that row, and whether a quote is open from its start on. */
  overlongRow(): { line: number; openQuote: boolean };
  /** After the whole text: the line of a last row whose quote never closes, or undefined. */
  unterminatedQuoteLine(): number | undefined;
}
