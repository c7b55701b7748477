import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { parseLogicalDate } from '@recomart/jobs';
import { CONTRACT_HEADER } from '../contract.js';
import { landingFolder } from '../landing-files.js';
import { MARKER_NAME } from '../landing-rules.js';
import { DayModel } from './day-model.js';

/** What the generator writes for a day. */
export interface GenerateDayOptions {
  /** `$LANDING_DIR`; files go to `<landingDir>/clickstream/<date>/`. */
  landingDir: string;
  /** YYYY-MM-DD */
  date: string;
  /** Rows over all files. @defaultValue 100000 */
  rows?: number;
  /** How many files the day is split into. @defaultValue 1 */
  files?: number;
  /** gzip the files (`.csv.gz`). @defaultValue false */
  gzip?: boolean;
  /** Same seed (and options), same bytes. @defaultValue "recomart" */
  seed?: string;
  /** Share of rows (0…1) with a realistic defect. @defaultValue 0 */
  dirty?: number;
  /** Called after every slice of rows with the rows written so far. */
  onProgress?: (rows: number, total: number) => void;
  signal?: AbortSignal;
}

export interface GeneratedDay {
  date: string;
  folder: string;
  files: Array<{ name: string; path: string; bytes: number }>;
  rows: number;
  /** Earlier generated files of the day that this run replaced (other file counts or compression). */
  removed: string[];
}

/** Names the generator gives its files (and the only ones it ever removes). */
const GENERATED_NAME_RE = /^events-\d{3,}\.csv(\.gz)?$/;

function fileName(index: number, gzip: boolean): string {
  return `events-${String(index).padStart(3, '0')}.csv${gzip ? '.gz' : ''}`;
}

interface OpenFile {
  name: string;
  final: string;
  temp: string;
  /** Where text is written (the gzip stream, or the file itself). */
  input: Writable;
  out: WriteStream;
  gzip: Gzip | undefined;
}

async function fsyncPath(p: string): Promise<void> {
  const handle = await open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes one realistic clickstream day (see `DayModel`) into the landing
 * zone. Each file is written under a hidden temporary name, fsynced, then
 * renamed into place, so a reader never sees half a file; generated files of
 * an earlier run that this run does not rewrite are removed afterwards. Like a
 * well-behaved exporter, it removes the day's `_SUCCESS` marker first and
 * writes it last, once every file is in place.
 */
export async function generateClickstreamDay(options: GenerateDayOptions): Promise<GeneratedDay> {
  const date = parseLogicalDate(options.date, 'date');
  const rows = options.rows ?? 100_000;
  const fileCount = options.files ?? 1;
  const gzip = options.gzip ?? false;
  const dirty = options.dirty ?? 0;
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`rows must be a whole number from 0, got ${rows}`);
  if (!Number.isSafeInteger(fileCount) || fileCount < 1 || fileCount > 1000) throw new RangeError(`files must be a whole number from 1 to 1000, got ${fileCount}`);
  if (!(dirty >= 0 && dirty <= 1)) throw new RangeError(`dirty must be a number from 0 to 1, got ${dirty}`);
  const folder = landingFolder(options.landingDir, date);
  await mkdir(folder, { recursive: true });
  const marker = path.join(folder, MARKER_NAME);
  await rm(marker, { force: true });

  const tag = `${process.pid}.${Date.now().toString(36)}`;
  const files: OpenFile[] = [];
  for (let i = 0; i < fileCount; i++) {
    const name = fileName(i, gzip);
    const temp = path.join(folder, `.${name}.${tag}.tmp`);
    const out = createWriteStream(temp, { flags: 'wx', highWaterMark: 1 << 20 });
    const z = gzip ? createGzip({ level: 6 }) : undefined;
    if (z) z.pipe(out);
    files.push({ name, final: path.join(folder, name), temp, input: z ?? out, out, gzip: z });
  }

  const write = async (f: OpenFile, text: string) => {
    if (!f.input.write(text)) await once(f.input, 'drain', options.signal ? { signal: options.signal } : {});
  };

  try {
    for (const f of files) await write(f, `${CONTRACT_HEADER}\n`);
    const model = new DayModel({ date, rows, files: fileCount, seed: options.seed ?? 'recomart', dirty });
    let done = 0;
    for (const slice of model.slices()) {
      options.signal?.throwIfAborted();
      for (let i = 0; i < fileCount; i++) {
        const text = slice.texts[i] as string;
        if (text.length > 0) await write(files[i] as OpenFile, text);
      }
      done += slice.rows;
      options.onProgress?.(done, rows);
    }
    await Promise.all(
      files.map(async (f) => {
        const closed = once(f.out, 'close');
        f.input.end();
        await closed;
        await fsyncPath(f.temp);
      }),
    );
    for (const f of files) await rename(f.temp, f.final);
    const written = new Set(files.map((f) => f.name));
    const removed: string[] = [];
    for (const name of await readdir(folder)) {
      if (GENERATED_NAME_RE.test(name) && !written.has(name)) {
        await rm(path.join(folder, name), { force: true });
        removed.push(name);
      }
    }
    await writeFile(marker, '', { flag: 'wx' });
    await fsyncPath(folder);
    const sizes = await Promise.all(
      files.map(async (f) => {
        const handle = await open(f.final, 'r');
        try {
          return (await handle.stat()).size;
        } finally {
          await handle.close();
        }
      }),
    );
    return {
      date,
      folder,
      files: files.map((f, i) => ({ name: f.name, path: f.final, bytes: sizes[i] as number })),
      rows,
      removed: removed.sort(),
    };
  } catch (err) {
    for (const f of files) {
      f.gzip?.destroy();
      f.out.destroy();
    }
    await Promise.all(files.map((f) => rm(f.temp, { force: true })));
    throw err;
  }
}
