import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { IngestError, SchemaMismatchError, TransientError } from '@recomart/jobs';
import type { ManifestFile, WriteSession } from '@recomart/lake';
import { COLUMNS, CONTRACT_HEADER } from './contract.js';
import { countMismatch, fileLinesProblem } from './count-invariant.js';
import { HEADER_EXPECTED, checkHeader } from './header-check.js';
import { CsvParserReader } from './csv-parser-reader.js';
import { FastRecordReader } from './fast-record-reader.js';
import { sniffNotCsv } from './not-csv.js';
import type { RejectedRows } from './rejected-rows.js';
import type { RowValidator } from './row-validator.js';
import { schemaMismatch } from './schema-mismatch.js';
import type { TextReader, TextReaderKind } from './text-reader.js';

/** One clickstream file to ingest: a landing file or a download. */
export interface ClickstreamFile {
  /** Its name in the lake version, e.g. `events-000.csv.gz`. */
  readonly name: string;
  /** How messages name it: the landing path under LANDING_DIR, or the URL. */
  readonly display: string;
  /** The manifest's `origin`: the landing path or the URL. */
  readonly origin: string;
  /** Whether the bytes are gzip (the name ends in `.gz`). */
  readonly gzip: boolean;
  /** Its size when listed, when known: reading a different size means it changed underneath us. */
  readonly expectedBytes?: number;
  /** Opens the raw bytes (called once). */
  open(): Promise<Readable>;
}

/** What one file contributed, listed in the manifest's `validation.files`. */
export interface FileReport {
  file: string;
  origin: string;
  gzip: boolean;
  bytes: number;
  sha256: string;
  /** Lines of CSV text (decompressed), header included. */
  lines: number;
  /** Data rows (blank lines are not rows). */
  rows: number;
  rejected: number;
}

/** What `ingestFile` answers: the file's report, and what the landing rules may ask about its text. */
export interface FileIngestResult {
  report: FileReport;
  /** Whether the text ends with a line ending (a last line without one may be a torn write). */
  lastLineTerminated: boolean;
}

export interface FileIngestDeps {
  readonly session: WriteSession;
  readonly validator: RowValidator;
  readonly rejects: RejectedRows;
  readonly maxRowBytes: number;
  /**
   * Which reader parses the text: `fast` (plain lines from the bytes, quoted records through csv-parser) or
   * `csv-parser` (csv-parser over the whole text: the oracle the differential test compares with).
   * @defaultValue 'fast'
   */
  readonly parser?: TextReaderKind;
  /** Called with every chunk's size as it is copied. */
  readonly onBytes: (n: number) => void;
  /** Called every so many rows (over all files) with the running counts. */
  readonly onProgress: (rows: number, rejected: number) => void;
}

/** The header's fields, for the ragged-file rule. */
const FIELDS = COLUMNS.length;
/** Read size for landing files and gunzip output. */
export const CHUNK_BYTES = 256 * 1024;

/** Resolves once `stream` can take more, or is gone. */
function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Ingests one file in one streaming pass: its bytes are copied unchanged into
 * the session (the lake hashes them) while the same bytes, gunzipped on the fly
 * when needed, go through csv-parser and the row validator. The slower of the
 * two branches sets the pace (backpressure on both).
 *
 * When the text breaks the contract, parsing stops but the copy goes on to
 * the last byte, so the caller can quarantine the file whole.
 *
 * @throws SchemaMismatchError after the copy is complete: the file breaks the contract (file, line, what was expected).
 * @throws TransientError when reading or writing fails (or the file changed while it was read).
 */
export async function ingestFile(file: ClickstreamFile, deps: FileIngestDeps): Promise<FileIngestResult> {
  const { session, validator, rejects, maxRowBytes } = deps;
  const sink = session.createFile(file.name, file.origin);
  const notCsvExpected = `UTF-8 CSV text starting with the header ${CONTRACT_HEADER}`;
  const inspect = (head: Buffer) => {
    const problem = sniffNotCsv(head, file.gzip);
    return problem === undefined ? undefined : schemaMismatch(file.display, 1, `not CSV: ${problem}`, notCsvExpected);
  };

  let contractError: SchemaMismatchError | undefined;
  let headerSeen = false;
  let firstRagged: { line: number; cells: number } | undefined;
  let rejectedHere = 0;

  const onHeader = (names: readonly string[]) => {
    headerSeen = true;
    const problem = checkHeader(names);
    if (problem !== undefined) fail(schemaMismatch(file.display, 1, problem, HEADER_EXPECTED));
  };
  const reader: TextReader =
    deps.parser === 'csv-parser'
      ? new CsvParserReader({
          maxRowBytes,
          inspect,
          handlers: {
            onHeader,
            onRecord: (record, cells, byteOffset) => {
              if (contractError) return;
              reader.release(byteOffset);
              validator.check(record, cells, byteOffset);
            },
          },
        })
      : new FastRecordReader({
          maxRowBytes,
          inspect,
          handlers: {
            onHeader,
            onRecord: (record, cells, byteOffset) => {
              if (!contractError) validator.check(record, cells, byteOffset);
            },
            onPlain: (buf, cut, order, cells, byteOffset, record) => {
              if (!contractError) validator.checkPlain(buf, cut, order, cells, byteOffset, record);
            },
          },
        });

  function fail(err: SchemaMismatchError): void {
    if (contractError) return;
    contractError = err;
    reader.stop(err);
  }

  function raggedVerdict(rows: number, ragged: number): void {
    if (ragged * 2 <= rows || !firstRagged) return;
    fail(
      schemaMismatch(
        file.display,
        firstRagged.line,
        `ragged file: ${ragged} of the first ${rows} rows do not have the header's ${FIELDS} fields (this line has ${firstRagged.cells})`,
        `${FIELDS} fields in every row, as in the header ${CONTRACT_HEADER}`,
      ),
    );
  }

  validator.beginFile({
    reject: (byteOffset, cells, reasons, messages) => {
      rejectedHere++;
      const line = reader.lineAt(byteOffset);
      const raw = reader.recordAt(byteOffset);
      if (reasons[0] === 'field_count' && !firstRagged) {
        firstRagged = { line, cells };
      }
      if (!rejects.write({ file: file.name, line, raw, reasons, messages })) {
        reader.holdUntil((resume) => rejects.onceDrain(resume));
      }
    },
    raggedCheck: raggedVerdict,
    progress: deps.onProgress,
  });

  const gunzip = file.gzip ? createGunzip({ chunkSize: CHUNK_BYTES }) : undefined;
  const entry: Writable = gunzip ?? reader.input;
  const parsed: Promise<unknown> = (gunzip ? Promise.all([pipeline(gunzip, reader.input), reader.done]) : reader.done).then(
    () => undefined,
    (err: unknown) => err ?? new Error('parsing failed'),
  );

  let bytes = 0;
  let input: Readable | undefined;
  try {
    input = await file.open();
    for await (const chunk of input as AsyncIterable<Buffer>) {
      // The session failed (a disk error on this or another file): its reason is in `done`.
      if (sink.stream.destroyed) throw await sink.done.then(() => new TransientError(`lake: ${file.name} was closed while it was written`), (err: unknown) => err);
      bytes += chunk.length;
      deps.onBytes(chunk.length);
      const copied = sink.stream.write(chunk);
      const parsing = entry.destroyed || entry.writableEnded ? true : entry.write(chunk);
      if (!copied || !parsing) {
        await Promise.all([copied ? undefined : drained(sink.stream), parsing ? undefined : drained(entry)]);
      }
    }
  } catch (err) {
    entry.destroy();
    sink.stream.destroy();
    await Promise.allSettled([sink.done, parsed]);
    if (err instanceof IngestError) throw err;
    throw new TransientError(`reading ${file.display} failed: ${messageOf(err)}`, { cause: err });
  }
  sink.stream.end();
  if (!entry.destroyed) entry.end();
  let stored: ManifestFile;
  try {
    stored = await sink.done;
  } catch (err) {
    entry.destroy();
    await parsed;
    throw new TransientError(`copying ${file.display} into the lake failed: ${messageOf(err)}`, { cause: err });
  }
  const parseError = await parsed;

  if (contractError) throw contractError;
  if (parseError instanceof SchemaMismatchError) throw parseError;
  if (parseError !== undefined) {
    const msg = messageOf(parseError);
    if (msg === 'Row exceeds the maximum size') {
      const { line, openQuote } = reader.overlongRow();
      if (openQuote) {
        throw schemaMismatch(file.display, line, `unterminated quote: this row runs past ${maxRowBytes} bytes (CLICKSTREAM_MAX_ROW_BYTES) without its closing quote`, 'every quoted field to close before the end of its row');
      }
      throw schemaMismatch(file.display, line, `row longer than ${maxRowBytes} bytes (CLICKSTREAM_MAX_ROW_BYTES)`, `rows of ${CONTRACT_HEADER} shorter than that`);
    }
    const code = (parseError as NodeJS.ErrnoException).code;
    if (gunzip && typeof code === 'string' && code.startsWith('Z_')) {
      throw schemaMismatch(file.display, reader.currentLine, `not valid gzip data (${msg})`, 'a complete gzip stream, as the name ends in .gz');
    }
    throw new TransientError(`parsing ${file.display} failed: ${msg}`, { cause: parseError });
  }
  if (!headerSeen) throw schemaMismatch(file.display, 1, 'empty file', `the header ${CONTRACT_HEADER}`);
  const unterminatedAt = reader.unterminatedQuoteLine();
  if (unterminatedAt !== undefined) {
    throw schemaMismatch(file.display, unterminatedAt, 'unterminated quote: this row runs to the end of the file', 'every quoted field to close before the end of its row');
  }
  const { rows, ragged } = validator.fileCounts();
  // Files shorter than the window get the verdict here (longer ones got it at the window).
  if (rows < validator.raggedWindow) raggedVerdict(rows, ragged);
  if (contractError) throw contractError;
  if (file.expectedBytes !== undefined && bytes !== file.expectedBytes) {
    throw new TransientError(`${file.display} changed while it was read: listed with ${file.expectedBytes} bytes, read ${bytes}`);
  }
  const linesProblem = fileLinesProblem({ lines: reader.lines, rows, blank: reader.blankLines, quotedLineBreaks: reader.quotedLineBreaks });
  if (linesProblem !== undefined) throw countMismatch(file.display, linesProblem);
  return {
    report: { file: file.name, origin: file.origin, gzip: file.gzip, bytes: stored.bytes, sha256: stored.sha256, lines: reader.lines, rows, rejected: rejectedHere },
    lastLineTerminated: reader.lastLineTerminated,
  };
}
