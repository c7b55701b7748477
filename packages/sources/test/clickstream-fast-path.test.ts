import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { FileSink, ManifestFile, WriteSession } from '@recomart/lake';
import { COLUMNS, DayWindow, RejectedRows, RowValidator, SeededRandom, ingestFile, type ClickstreamFile, type TextReaderKind } from '@recomart/sources';

// The differential test of issue 14: the fast reader (plain lines judged from the bytes, the header and quoted
// records through csv-parser) against csv-parser over the whole text (the oracle, `parser: 'csv-parser'`), through
// the real `ingestFile`, on seeded generated inputs fed in generated chunks. Everything a run produces is compared:
// the file report or the error, every rejected line (line, raw text, reasons, messages), the day's statistics, and
// the lake copy (byte-identical to the input). A failure names its seed: DIFF_SEED=<seed> replays it alone.

const DATE = '2024-05-01';
const SEEDS = 2500;

/** An in-memory write session: the lake is not what is under test here, the reader is. */
function memorySession(): { session: WriteSession; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  const session: WriteSession = {
    init: { source: 'clickstream', date: DATE, runId: 'diff', jobId: 'diff', attempt: 1 },
    resumed: undefined,
    createFile(name: string): FileSink {
      const parts: Buffer[] = [];
      let settle: (f: ManifestFile) => void = () => undefined;
      const done = new Promise<ManifestFile>((resolve) => (settle = resolve));
      const stream = new Writable({
        write(chunk: Buffer, _e, cb) {
          parts.push(Buffer.from(chunk));
          cb();
        },
        final(cb) {
          const bytes = Buffer.concat(parts);
          files.set(name, bytes);
          settle({ path: name, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } as ManifestFile);
          cb();
        },
      });
      return { stream, done };
    },
    writeFile: () => Promise.reject(new Error('not used')),
    keep: () => Promise.reject(new Error('not used')),
    readFile: () => Promise.reject(new Error('not used')),
    removeFile: () => Promise.reject(new Error('not used')),
    commit: () => Promise.reject(new Error('not used')),
    quarantine: () => Promise.reject(new Error('not used')),
    abort: () => Promise.resolve(),
  };
  return { session, files };
}

interface Outcome {
  result: unknown;
  rejected: string;
  summary: unknown;
  copyIdentical: boolean;
}

async function ingest(input: Buffer, chunks: number[], gzip: boolean, maxRowBytes: number, parser: TextReaderKind): Promise<Outcome> {
  const { session, files } = memorySession();
  const validator = new RowValidator(new DayWindow(DATE, 0), 7, 20);
  const rejects = new RejectedRows(session, 'diff');
  const pieces: Buffer[] = [];
  let at = 0;
  for (const n of chunks) {
    pieces.push(input.subarray(at, at + n));
    at += n;
  }
  if (at < input.length) pieces.push(input.subarray(at));
  const file: ClickstreamFile = { name: gzip ? 'e.csv.gz' : 'e.csv', display: 'e.csv', origin: 'diff', gzip, open: () => Promise.resolve(Readable.from(pieces)) };
  let result: unknown;
  try {
    result = await ingestFile(file, { session, validator, rejects, maxRowBytes, parser, onBytes: () => undefined, onProgress: () => undefined });
  } catch (err) {
    result = { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  await rejects.close();
  const copy = files.get(file.name);
  return { result, rejected: (files.get(RejectedRows.fileName) ?? Buffer.alloc(0)).toString('utf8'), summary: validator.summary(), copyIdentical: copy !== undefined && copy.equals(input) };
}

/** A seeded clickstream text with every shape the readers must agree on. */
function generate(rng: SeededRandom): { text: Buffer; maxRowBytes: number } {
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
  const chance = (p: number) => rng.next() < p;
  const parts: Buffer[] = [];
  const eol = () => (chance(0.3) ? '\r\n' : '\n');
  const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
  const maybeQuote = (v: string) => (chance(0.08) ? quote(v) : v);
  if (chance(0.1)) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  const order: string[] = [...COLUMNS].sort(() => rng.next() - 0.5);
  if (chance(0.02)) order[rng.int(order.length)] = pick(['devise', 'user_id', '__proto__', '']);
  parts.push(Buffer.from(order.map((c) => (chance(0.05) ? quote(c) : c)).join(',') + eol()));
  const rows = rng.int(60);
  // Now and then a schema change rather than a few broken rows: the ragged-file rule.
  const raggedRate = chance(0.03) ? 0.8 : 0.06;
  const timestamp = () =>
    pick([
      () => `${DATE}T${String(rng.int(24)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}.${String(rng.int(1000)).padStart(3, '0')}Z`,
      () => `${DATE}T0${rng.int(10)}:1${rng.int(10)}:2${rng.int(10)}Z`,
      () => String(Date.UTC(2024, 4, 1) + rng.int(86_400_000)),
      () => `${DATE}T10:00:00+02:00`,
      () => '2024-05-02T00:00:00.000Z',
      () => pick(['N/A', '', '2024-05-01 10:00:00', '2024-05-01T25:00:00Z', '17145', '2024-05-01T10:00:00.1234Z']),
    ])();
  for (let r = 0; r < rows; r++) {
    const kind = rng.next();
    if (kind < 0.05) {
      parts.push(Buffer.from(pick(['', '\r']) + eol()));
      continue;
    }
    const values: Record<string, string> = {
      user_id: chance(0.05) ? '' : String(1000 + rng.int(50)),
      product_id: chance(0.05) ? '' : `p${rng.int(30)}`,
      event_type: chance(0.07) ? pick(['purchase', 'View', '', 'add-to-cart', 'clicked']) : pick(['view', 'click', 'add_to_cart']),
      timestamp: timestamp(),
      device: chance(0.05) ? '' : pick(['web', 'ios', 'android', 'tablet', 'smart "tv"', 'a,b', 'line\nbreak', 'crlf\r\ninside', `d${rng.int(150)}`]),
    };
    let cells = order.map((c) => (Object.hasOwn(values, c) ? (values[c] as string) : 'x'));
    if (chance(raggedRate)) cells = chance(0.5) ? cells.slice(0, rng.int(5)) : [...cells, 'extra'];
    const line = cells.map((v) => (/[",\r\n]/.test(v) ? quote(v) : maybeQuote(v))).join(',');
    let bytes = Buffer.from(line);
    if (chance(0.03)) bytes = Buffer.concat([bytes, Buffer.from([0xff, 0xc3, 0x28])]); // invalid UTF-8
    if (chance(0.02)) bytes = Buffer.concat([bytes, Buffer.from('x'.repeat(300 + rng.int(300)))]); // a very long row
    if (chance(0.02)) bytes = Buffer.concat([bytes, Buffer.from(pick(['"', 'x"y', '"a""b"']))]); // stray quotes
    parts.push(bytes);
    if (r < rows - 1 || chance(0.7)) parts.push(Buffer.from(eol()));
  }
  return { text: Buffer.concat(parts), maxRowBytes: chance(0.3) ? 256 + rng.int(400) : 65_536 };
}

function chunking(rng: SeededRandom, length: number): number[] {
  const style = rng.int(4);
  if (style === 0) return [length];
  // One byte at a time costs a stream write per byte: short inputs only.
  if (style === 1 && length < 800) return Array.from({ length }, () => 1);
  const sizes: number[] = [];
  for (let at = 0; at < length; ) {
    const n = 1 + rng.int(style === 2 ? 16 : 400);
    sizes.push(n);
    at += n;
  }
  return sizes;
}

/** Which outcome an input had: every kind must come up, or the generator is not testing what it claims. */
function kindOf(outcome: Outcome): string {
  const r = outcome.result as { error?: string };
  if (r.error === undefined) return outcome.rejected === '' ? 'clean' : 'rows rejected';
  const known = ['row longer than', 'runs past', 'runs to the end of the file', 'ragged file', 'line 1: header', 'not valid gzip'];
  return known.find((k) => r.error?.includes(k)) ?? r.error;
}

async function compare(seed: string): Promise<string> {
  const rng = new SeededRandom(seed);
  const { text, maxRowBytes } = generate(rng);
  const gzip = rng.next() < 0.1;
  const input = gzip ? gzipSync(text) : text;
  const chunks = chunking(rng, input.length);
  const fast = await ingest(input, chunks, gzip, maxRowBytes, 'fast');
  const oracle = await ingest(input, chunks, gzip, maxRowBytes, 'csv-parser');
  const context = `seed ${JSON.stringify(seed)} (replay: DIFF_SEED=${seed}); input ${JSON.stringify(text.toString('latin1'))}`;
  expect(fast, context).toEqual(oracle);
  expect(fast.copyIdentical, context).toBe(true);
  return `${kindOf(oracle)}${gzip ? ' (gzip)' : ''}`;
}

describe('clickstream fast reader vs csv-parser (differential)', () => {
  it(`gives the same report, rejected lines, statistics and errors on ${SEEDS} generated inputs in generated chunks`, async () => {
    // A seed in DIFF_SEED replays one input (and only it).
    const only = process.env.DIFF_SEED;
    const seeds = only ? [only] : Array.from({ length: SEEDS }, (_, i) => `diff-${i}`);
    const kinds = new Map<string, number>();
    for (const seed of seeds) {
      const kind = await compare(seed);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    if (only) return;
    const seen = Object.fromEntries([...kinds].sort());
    for (const kind of ['clean', 'rows rejected', 'rows rejected (gzip)', 'row longer than', 'runs past', 'runs to the end of the file', 'line 1: header', 'ragged file']) {
      expect(kinds.get(kind) ?? 0, `${kind}; outcomes seen: ${JSON.stringify(seen)}`).toBeGreaterThan(0);
    }
  }, 240_000);

  it('gives the same results whatever chunk boundary a line is split at', async () => {
    const rng = new SeededRandom('every-boundary');
    for (let k = 0; k < 4; k++) {
      const { text } = generate(rng);
      for (let cut = 1; cut < text.length; cut++) {
        const chunks = [cut, text.length - cut];
        const fast = await ingest(text, chunks, false, 65_536, 'fast');
        const oracle = await ingest(text, chunks, false, 65_536, 'csv-parser');
        expect(fast, `input ${k} split at ${cut}: ${JSON.stringify(text.toString('latin1'))}`).toEqual(oracle);
      }
    }
  }, 240_000);
});
