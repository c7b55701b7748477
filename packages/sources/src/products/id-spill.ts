import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { TransientError } from '@recomart/jobs';

/**
 * Exact "seen before?" over every product id of a snapshot in bounded memory.
 *
 * Ids go into an in-memory batch (a hash set off the JS heap, so a repeat
 * inside the batch is known at once). A full batch is sorted and spilled as a run file to a private
 * folder; `finish` k-way merges the runs (streaming, MERGE_FAN_IN runs at a
 * time, more passes when there are more) and reports every occurrence of an id
 * after its first as a duplicate. Each record carries the product's sequence
 * number and whether the product was already rejected for another reason, so
 * the caller can count rejections once and pick its samples by sequence.
 * When everything fits in one batch nothing touches disk.
 *
 * Run file record: u32 LE byte length of the id, f64 LE `key`
 * (sequence × 2 + 1 when already rejected), the id as UTF-16 LE (lossless for
 * any JS string, lone surrogates included; UTF-8 would fold them together).
 * Runs are sorted by id (UTF-16 code units, the order of `<` on strings), ids
 * unique within a run; runs are written in sequence order.
 */

/** Defaults, overridable per instance (tests force many runs and passes). */
export interface IdSpillOptions {
  /** Folder under which the private spill folder is made, lazily. @defaultValue os.tmpdir() */
  root?: string;
  /** Distinct ids per batch before it is spilled. @defaultValue 100_000 */
  batchSize?: number;
  /** UTF-16 code units of id per batch before it is spilled (its arena is twice this in bytes). @defaultValue 2_500_000 */
  batchChars?: number;
  /** Runs merged at once (open files per merge pass). @defaultValue 64 */
  mergeFanIn?: number;
}

/** A later occurrence of an id, found at `finish`. */
export interface LateDuplicate {
  id: string;
  seq: number;
  /** The product was already rejected for another reason. */
  alreadyRejected: boolean;
}

const HEADER = 12;
const READ_CHUNK = 64 * 1024;
const WRITE_CHUNK = 256 * 1024;

/** The spill folders this process uses now (never swept). */
const inUse = new Set<string>();

function transient(what: string, err: unknown): TransientError {
  const msg = err instanceof Error ? err.message : String(err);
  return new TransientError(`products: ${what} failed (${msg}); the snapshot is retried`, { cause: err });
}

/** Whether a process with this id runs on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the spill folders a crashed worker of this host left in `root`:
 * named `<host>-<pid>-<random>`, of this host, not in use by this process,
 * and whose pid is no longer running (or is this process: a restart that got
 * the same pid, as in a container). Other hosts' folders are theirs to sweep.
 * Best effort: a folder it cannot remove stays for the next time.
 */
export function sweepLeftovers(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const host = hostname();
  for (const name of names) {
    const m = /^(.+)-(\d+)-[0-9a-f]{8}$/.exec(name);
    if (!m || m[1] !== host) continue;
    const dir = path.join(root, name);
    const pid = Number(m[2]);
    if (inUse.has(dir) || (pid !== process.pid && alive(pid))) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // left for the next sweep
    }
  }
}

/** A sorted stream of records: a run file or the last in-memory batch. */
interface Run {
  /** False once exhausted. */
  has: boolean;
  id: string;
  key: number;
  /** Moves to the next record (a promise only when it has to read). */
  advance(): Promise<void> | undefined;
}

class MemoryRun implements Run {
  has = false;
  id = '';
  key = 0;
  private i = 0;
  constructor(
    private readonly batch: IdBatch,
    private readonly order: Uint32Array,
  ) {
    this.load();
  }
  private load(): void {
    this.has = this.i < this.order.length;
    if (this.has) {
      const entry = this.order[this.i] as number;
      this.id = this.batch.id(entry);
      this.key = this.batch.keys[entry] as number;
    }
  }
  advance(): undefined {
    this.i += 1;
    this.load();
    return undefined;
  }
}

class FileRun implements Run {
  has = false;
  id = '';
  key = 0;
  private buf = Buffer.alloc(0);
  private pos = 0;
  private eof = false;
  private constructor(
    private readonly file: string,
    private readonly fh: FileHandle,
  ) {}

  static async open(file: string): Promise<FileRun> {
    const run = new FileRun(file, await open(file, 'r'));
    try {
      await run.advance();
    } catch (err) {
      await run.close().catch(() => undefined);
      throw err;
    }
    return run;
  }

  /** Bytes of the next record, when the buffer holds all of it. */
  private complete(): number | undefined {
    const left = this.buf.byteLength - this.pos;
    if (left < HEADER) return undefined;
    const size = HEADER + this.buf.readUInt32LE(this.pos);
    return left >= size ? size : undefined;
  }

  advance(): Promise<void> | undefined {
    if (this.complete() !== undefined || this.eof) {
      this.take();
      return undefined;
    }
    return this.refill().then(() => this.take());
  }

  private async refill(): Promise<void> {
    while (!this.eof && this.complete() === undefined) {
      const left = this.buf.subarray(this.pos);
      const need = left.byteLength >= HEADER ? HEADER + left.readUInt32LE(0) : HEADER;
      const next = Buffer.allocUnsafe(Math.max(READ_CHUNK, need));
      left.copy(next, 0);
      const { bytesRead } = await this.fh.read(next, left.byteLength, next.byteLength - left.byteLength, null);
      if (bytesRead === 0) this.eof = true;
      this.buf = next.subarray(0, left.byteLength + bytesRead);
      this.pos = 0;
    }
  }

  private take(): void {
    const size = this.complete();
    if (size === undefined) {
      if (this.pos !== this.buf.byteLength) throw new TransientError(`products: the product id spill ${this.file} ends in a truncated record; the snapshot is retried`);
      this.has = false;
      return;
    }
    const len = this.buf.readUInt32LE(this.pos);
    this.key = this.buf.readDoubleLE(this.pos + 4);
    this.id = this.buf.toString('utf16le', this.pos + HEADER, this.pos + HEADER + len);
    this.pos += size;
    this.has = true;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Appends records to a new run file through one bounded buffer. */
class RunWriter {
  private buf = Buffer.allocUnsafe(WRITE_CHUNK);
  private at = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async create(file: string): Promise<RunWriter> {
    return new RunWriter(await open(file, 'wx'));
  }

  async add(id: string, key: number): Promise<void> {
    const size = HEADER + id.length * 2;
    if (this.at + size > this.buf.byteLength) await this.drain();
    if (size > this.buf.byteLength) this.buf = Buffer.allocUnsafe(size);
    this.at += encode(this.buf, this.at, id, key);
  }

  private async drain(): Promise<void> {
    let off = 0;
    while (off < this.at) off += (await this.fh.write(this.buf, off, this.at - off)).bytesWritten;
    this.at = 0;
  }

  async close(): Promise<void> {
    try {
      await this.drain();
    } finally {
      await this.fh.close();
    }
  }
}

/** Writes one record at `at`; answers its size. */
function encode(buf: Buffer, at: number, id: string, key: number): number {
  const len = buf.write(id, at + HEADER, 'utf16le');
  buf.writeUInt32LE(len, at);
  buf.writeDoubleLE(key, at + 4);
  return HEADER + len;
}

/** A binary min-heap of runs by (id, key): equal ids come out in sequence order. */
class RunHeap {
  readonly items: Run[] = [];
  private static less(a: Run, b: Run): boolean {
    return a.id < b.id || (a.id === b.id && a.key < b.key);
  }
  push(run: Run): void {
    const h = this.items;
    h.push(run);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!RunHeap.less(h[i] as Run, h[p] as Run)) break;
      [h[i], h[p]] = [h[p] as Run, h[i] as Run];
      i = p;
    }
  }
  /** Restores order after the top changed (or removes it when exhausted). */
  fixTop(): void {
    const h = this.items;
    if (!(h[0] as Run).has) {
      const last = h.pop() as Run;
      if (h.length === 0) return;
      h[0] = last;
    }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && RunHeap.less(h[l] as Run, h[m] as Run)) m = l;
      if (r < h.length && RunHeap.less(h[r] as Run, h[m] as Run)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m] as Run, h[i] as Run];
      i = m;
    }
  }
}

/** FNV-1a over a string's UTF-16 code units. */
function hashOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The current batch: an open-addressing hash set of ids with their keys,
 * allocated once and reused, the ids' UTF-16 LE bytes in one arena. Nothing
 * of it lives on the JS heap as objects, so holding a batch neither promotes
 * the pages' id strings to the old generation nor leaves them there as garbage
 * (which made the heap, and the RSS, grow with the catalogue).
 */
class IdBatch {
  size = 0;
  private arena: Buffer;
  private used = 0;
  private readonly offsets: Uint32Array;
  private readonly lengths: Uint32Array;
  private readonly hashes: Uint32Array;
  readonly keys: Float64Array;
  /** Entry index + 1 per slot, 0 when empty; at least twice the capacity. */
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(
    readonly capacity: number,
    arenaBytes: number,
  ) {
    this.arena = Buffer.allocUnsafe(arenaBytes);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.hashes = new Uint32Array(capacity);
    this.keys = new Float64Array(capacity);
    let slots = 2;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** The slot holding `id` as `~slot` (negative), or the empty slot where it goes. */
  private probe(id: string, hash: number): number {
    const { table, mask } = this;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const e = table[slot] as number;
      if (e === 0) return slot;
      if (this.hashes[e - 1] === hash && this.equals(e - 1, id)) return ~slot;
    }
  }

  private equals(entry: number, id: string): boolean {
    if (this.lengths[entry] !== id.length * 2) return false;
    const a = this.arena;
    const off = this.offsets[entry] as number;
    for (let i = 0; i < id.length; i++) {
      if (((a[off + 2 * i] as number) | ((a[off + 2 * i + 1] as number) << 8)) !== id.charCodeAt(i)) return false;
    }
    return true;
  }

  has(id: string): boolean {
    return this.probe(id, hashOf(id)) < 0;
  }

  /** Whether one more id of `bytes` fits (entries and arena). */
  fits(bytes: number): boolean {
    return this.size < this.capacity && this.used + bytes <= this.arena.byteLength;
  }

  /** Adds an id known to be absent; the caller checked `fits` (an empty batch takes any id). */
  insert(id: string, key: number): void {
    const bytes = id.length * 2;
    if (this.used + bytes > this.arena.byteLength) this.arena = Buffer.allocUnsafe(bytes); // one id longer than the arena, in an empty batch
    const hash = hashOf(id);
    const slot = this.probe(id, hash);
    const e = this.size;
    this.arena.write(id, this.used, 'utf16le');
    this.offsets[e] = this.used;
    this.lengths[e] = bytes;
    this.hashes[e] = hash;
    this.keys[e] = key;
    this.used += bytes;
    this.table[slot] = e + 1;
    this.size += 1;
  }

  /** Entry indices in id order (UTF-16 code units, as `<` on strings). */
  sorted(): Uint32Array {
    const order = new Uint32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    const { arena, offsets, lengths } = this;
    return order.sort((x, y) => {
      const ox = offsets[x] as number;
      const oy = offsets[y] as number;
      const lx = lengths[x] as number;
      const ly = lengths[y] as number;
      const n = Math.min(lx, ly);
      for (let i = 0; i < n; i += 2) {
        const cx = (arena[ox + i] as number) | ((arena[ox + i + 1] as number) << 8);
        const cy = (arena[oy + i] as number) | ((arena[oy + i + 1] as number) << 8);
        if (cx !== cy) return cx - cy;
      }
      return lx - ly;
    });
  }

  id(entry: number): string {
    const off = this.offsets[entry] as number;
    return this.arena.toString('utf16le', off, off + (this.lengths[entry] as number));
  }

  /** Copies entry's record (header and id bytes) into `buf` at `at`; answers its size. */
  encode(entry: number, buf: Buffer, at: number): number {
    const len = this.lengths[entry] as number;
    const off = this.offsets[entry] as number;
    buf.writeUInt32LE(len, at);
    buf.writeDoubleLE(this.keys[entry] as number, at + 4);
    this.arena.copy(buf, at + HEADER, off, off + len);
    return HEADER + len;
  }

  recordBytes(entry: number): number {
    return HEADER + (this.lengths[entry] as number);
  }

  clear(): void {
    this.table.fill(0);
    this.size = 0;
    this.used = 0;
  }
}

export class IdSpill {
  /** Allocated at the first id (an empty snapshot allocates nothing). */
  private batch: IdBatch | undefined;
  private readonly runs: string[] = [];
  private dir: string | undefined;
  private runCounter = 0;
  private failure: { error: unknown } | undefined;
  private done = false;
  private readonly root: string;
  private readonly batchSize: number;
  private readonly arenaBytes: number;
  private readonly fanIn: number;

  constructor(options: IdSpillOptions = {}) {
    this.root = options.root ?? tmpdir();
    this.batchSize = Math.max(1, options.batchSize ?? 100_000);
    this.arenaBytes = 2 * Math.max(1, options.batchChars ?? 2_500_000);
    this.fanIn = Math.max(2, options.mergeFanIn ?? 64);
  }

  /** Whether some batch went to disk (then duplicates are only known after `finish`). */
  get spilled(): boolean {
    return this.runs.length > 0 || this.failure !== undefined;
  }

  /** The private folder, while it exists. */
  get folder(): string | undefined {
    return this.dir;
  }

  /**
   * Adds one occurrence. Answers true when the id is already in the current
   * batch (a duplicate known now; it is not recorded again). Throws
   * TransientError when the spill cannot be written.
   */
  add(id: string, seq: number, alreadyRejected: boolean): boolean {
    if (this.failure) throw this.failure.error;
    if (this.done) throw new Error('IdSpill.add after finish');
    const batch = (this.batch ??= new IdBatch(this.batchSize, this.arenaBytes));
    if (batch.has(id)) return true;
    if (!batch.fits(id.length * 2) && batch.size > 0) this.spill(batch);
    batch.insert(id, seq * 2 + (alreadyRejected ? 1 : 0));
    return false;
  }

  private folderForRuns(): string {
    if (this.dir === undefined) {
      mkdirSync(this.root, { recursive: true });
      sweepLeftovers(this.root);
      const dir = path.join(this.root, `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`);
      mkdirSync(dir);
      inUse.add(dir);
      this.dir = dir;
    }
    return this.dir;
  }

  private nextRunFile(): string {
    this.runCounter += 1;
    return path.join(this.folderForRuns(), `run-${String(this.runCounter).padStart(6, '0')}.bin`);
  }

  /** Sorts the batch and writes it as a run file (synchronously: bounded by the batch, page-cache speed). */
  private spill(batch: IdBatch): void {
    const order = batch.sorted();
    let fd: number | undefined;
    try {
      const file = this.nextRunFile();
      fd = openSync(file, 'wx');
      let buf = Buffer.allocUnsafe(WRITE_CHUNK);
      let at = 0;
      const drain = (): void => {
        let off = 0;
        while (off < at) off += writeSync(fd as number, buf, off, at - off);
        at = 0;
      };
      for (const entry of order) {
        const size = batch.recordBytes(entry);
        if (at + size > buf.byteLength) drain();
        if (size > buf.byteLength) buf = Buffer.allocUnsafe(size);
        at += batch.encode(entry, buf, at);
      }
      drain();
      this.runs.push(file);
    } catch (err) {
      this.failure = { error: transient('spilling product ids to disk', err) };
      throw this.failure.error;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    batch.clear();
  }

  /**
   * Merges everything seen; calls `onDuplicate` for every occurrence of an id
   * after its first (in no particular order). Removes the spill folder.
   */
  async finish(onDuplicate: (d: LateDuplicate) => void): Promise<void> {
    if (this.failure) throw this.failure.error;
    if (this.done) throw new Error('IdSpill.finish called twice');
    this.done = true;
    try {
      if (this.runs.length === 0) return; // in-memory only: every repeat was known at once
      const report = (id: string, key: number): void => onDuplicate({ id, seq: Math.floor(key / 2), alreadyRejected: key % 2 === 1 });
      let files = this.runs.splice(0);
      // Earlier passes: merge groups of fanIn runs into one, dropping (and reporting) later occurrences.
      while (files.length + 1 > this.fanIn) {
        const merged: string[] = [];
        for (let i = 0; i < files.length; i += this.fanIn) {
          const group = files.slice(i, i + this.fanIn);
          if (group.length === 1) {
            merged.push(group[0] as string);
            continue;
          }
          const out = this.nextRunFile();
          const writer = await RunWriter.create(out);
          let closed = false;
          try {
            await this.mergeFiles(group, report, writer);
            closed = true;
            await writer.close();
          } finally {
            if (!closed) await writer.close().catch(() => undefined);
          }
          await Promise.all(group.map((f) => rm(f, { force: true })));
          merged.push(out);
        }
        files = merged;
      }
      const last = this.batch;
      await this.mergeFiles(files, report, undefined, last && last.size > 0 ? new MemoryRun(last, last.sorted()) : undefined);
    } catch (err) {
      if (err instanceof TransientError || !isIoError(err)) throw err;
      throw transient('merging the spilled product ids', err);
    } finally {
      await this.dispose();
    }
  }

  private async mergeFiles(files: readonly string[], report: (id: string, key: number) => void, writer: RunWriter | undefined, extra?: Run): Promise<void> {
    const opened: FileRun[] = [];
    try {
      for (const f of files) opened.push(await FileRun.open(f));
      const heap = new RunHeap();
      for (const run of [...opened, ...(extra ? [extra] : [])]) if (run.has) heap.push(run);
      let last: string | undefined;
      while (heap.items.length > 0) {
        const top = heap.items[0] as Run;
        const { id, key } = top;
        if (id === last) report(id, key);
        else {
          last = id;
          if (writer) await writer.add(id, key);
        }
        const pending = top.advance();
        if (pending) await pending;
        heap.fixTop();
      }
    } finally {
      await Promise.all(opened.map((r) => r.close().catch(() => undefined)));
    }
  }

  /** Removes the spill folder (idempotent, never throws). */
  async dispose(): Promise<void> {
    this.batch = undefined;
    const dir = this.dir;
    if (dir === undefined) return;
    this.dir = undefined;
    this.runs.length = 0;
    try {
      await rm(dir, { recursive: true, force: true });
    } catch {
      // a leftover; swept at the next spill on this host
    }
    inUse.delete(dir);
  }
}

function isIoError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
