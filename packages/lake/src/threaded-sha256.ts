import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Bytes a stream holds on its own thread before it hands hashing to the
 * hashing thread: a streamed file shorter than this is hashed on the calling
 * thread when it ends, with no thread round trip.
 * @defaultValue 512 KiB
 */
export const THREADED_SHA256_MIN_BYTES = 512 * 1024;

/**
 * Size of a stream's ring of bytes copied but not yet hashed: `update()`
 * waits (backpressure) once this much is in flight, so memory stays flat
 * however far the hashing thread falls behind. Rings are reused from one
 * stream to the next (a fresh one costs a page fault per 4 KiB on first use).
 * @defaultValue 1 MiB
 */
export const THREADED_SHA256_RING_BYTES = 1024 * 1024;

/** Rings kept for reuse once their stream ended. */
const SPARE_RINGS = 2;
const spareRings: SharedArrayBuffer[] = [];

/** How long an idle hashing thread waits for a next stream before it is terminated. */
const IDLE_MS = 10_000;

/**
 * A stream's shared memory: a header of 64-bit counters the two threads
 * read and write with `Atomics` (no message per chunk), then the ring.
 */
const HEADER_BYTES = 64;
/** Bytes copied into the ring so far (written by the stream). */
const COPIED = 0;
/** Bytes hashed so far (written by the thread): their room in the ring may be reused. */
const HASHED = 1;
/** 1 once the stream asked for its digest. */
const ENDED = 2;
/** 1 while the stream waits for room: the thread posts a message when it hashed more. */
const WAITING = 3;
/** Bumped by the stream after every change the thread must see (the word the thread sleeps on). */
const CHANGES = 4;

/** Bytes the thread hashes before it publishes its progress (the stream may be waiting for that room). */
const HASH_STEP = 256 * 1024;

/** Messages to the hashing thread. */
type ToThread = { readonly t: 'open'; readonly id: number; readonly memory: SharedArrayBuffer; readonly ringBytes: number };

/** Messages from the hashing thread: it hashed more (to a waiting stream), or the stream's digest. */
type FromThread = { readonly id: number; readonly hashed: true } | { readonly id: number; readonly digest: string };

/**
 * The hashing thread (CommonJS, run with `eval` so it needs no file of its
 * own next to the built or the TypeScript sources): one loop per open
 * stream, hashing the ring as the stream's counters advance, sleeping on the
 * stream's change counter (`Atomics.waitAsync`) when there is nothing to do.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
async function run(id, memory, size) {
  const h = new BigInt64Array(memory, 0, 8);
  const ring = new Uint8Array(memory, ${HEADER_BYTES}, size);
  const hash = createHash('sha256');
  let done = 0;
  for (;;) {
    const changes = Atomics.load(h, ${CHANGES});
    const copied = Number(Atomics.load(h, ${COPIED}));
    if (copied > done) {
      const at = done % size;
      const n = Math.min(copied - done, size - at, ${HASH_STEP});
      hash.update(ring.subarray(at, at + n));
      done += n;
      Atomics.store(h, ${HASHED}, BigInt(done));
      if (Atomics.exchange(h, ${WAITING}, 0n) !== 0n) parentPort.postMessage({ id, hashed: true });
      continue;
    }
    if (Atomics.load(h, ${ENDED}) !== 0n) {
      parentPort.postMessage({ id, digest: hash.digest('hex') });
      return;
    }
    const wait = Atomics.waitAsync(h, ${CHANGES}, changes);
    if (wait.async) await wait.value;
  }
}
parentPort.on('message', (m) => {
  if (m.t === 'open') void run(m.id, m.memory, m.ringBytes);
});
`;

/** What the hashing thread reports to one stream. */
interface StreamPort {
  hashed(): void;
  digest(hex: string): void;
  failed(err: Error): void;
}

/**
 * The process's one hashing thread, shared by every threaded stream: started
 * on first use, kept referenced only while a stream waits on it (so it never
 * holds the process open), and terminated after a while without streams.
 */
class HashThread {
  private readonly worker: Worker;
  private readonly ports = new Map<number, StreamPort>();
  private waiting = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private dead: Error | undefined;

  constructor(private readonly onGone: (thread: HashThread) => void) {
    this.worker = new Worker(THREAD_SOURCE, { eval: true, execArgv: [], stdout: false, stderr: false });
    this.worker.on('message', (m: FromThread) => {
      const port = this.ports.get(m.id);
      if (port === undefined) return;
      if ('digest' in m) port.digest(m.digest);
      else port.hashed();
    });
    this.worker.on('error', (err: Error) => this.fail(new Error(`the sha256 thread failed: ${err.message}`, { cause: err })));
    this.worker.on('messageerror', (err: Error) => this.fail(new Error(`the sha256 thread sent an unreadable message: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code: number) => this.fail(new Error(`the sha256 thread exited (code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  /** Hands a stream's memory to the thread, which hashes it from then on. */
  open(id: number, memory: SharedArrayBuffer, ringBytes: number, port: StreamPort): void {
    if (this.dead) throw this.dead;
    this.clearIdle();
    this.ports.set(id, port);
    const message: ToThread = { t: 'open', id, memory, ringBytes };
    this.worker.postMessage(message);
  }

  /** Forgets a stream (ended); terminates the thread after a while without streams. */
  close(id: number): void {
    this.ports.delete(id);
    if (this.ports.size === 0 && !this.dead) {
      this.clearIdle();
      this.idleTimer = setTimeout(() => void this.stop(), IDLE_MS).unref();
    }
  }

  /** A stream waits on the thread: keep the process alive until it answers. */
  hold(): void {
    if (this.waiting++ === 0) this.worker.ref();
  }

  release(): void {
    if (--this.waiting === 0) this.worker.unref();
  }

  private clearIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** Terminates the thread; streams still open fail. */
  async stop(): Promise<void> {
    this.fail(new Error('the sha256 thread was stopped'));
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.clearIdle();
    this.onGone(this);
    const ports = [...this.ports.values()];
    this.ports.clear();
    for (const port of ports) port.failed(err);
  }
}

let thread: HashThread | undefined;
let nextId = 1;

function sharedThread(): HashThread {
  thread ??= new HashThread((gone) => {
    if (thread === gone) thread = undefined;
  });
  return thread;
}

/**
 * Terminates the hashing thread now (the next threaded stream starts a new
 * one). Streams still being hashed fail. Not needed before exit: the thread
 * never holds the process open.
 */
export async function stopSha256Thread(): Promise<void> {
  const t = thread;
  thread = undefined;
  if (t) await t.stop();
}

/**
 * A sha256 computed beside the caller. `update()` copies each chunk into a
 * ring of memory shared with the process's hashing thread (one `memcpy`, no
 * allocation, no message: the two threads meet on `Atomics` counters), and
 * the thread hashes it while the caller goes on; `digest()` ends the stream.
 * At most `ringBytes` are in flight: `update()` returns a promise to wait on
 * when the ring is full (backpressure), and nothing when the chunk was
 * copied at once. A stream that ends before `minBytes` never touches the
 * thread: it is hashed where it was written, when it ends. The caller may
 * reuse a chunk as soon as `update()` returned (or its promise resolved).
 *
 * Calls must not overlap: one `update()` at a time, `digest()` after it
 * (it waits for an unsettled one). A failure of the thread rejects the
 * pending and every later call.
 */
export class ThreadedSha256 {
  private memory: SharedArrayBuffer | undefined;
  private header: BigInt64Array | undefined;
  private ring: Uint8Array | undefined;
  /** Bytes copied in (a running total: its position in the ring is this modulo the ring's size). */
  private copied = 0;
  /** Bytes the thread hashed, as last read. */
  private hashed = 0;
  private readonly id = nextId++;
  private thread: HashThread | undefined;
  private failure: Error | undefined;
  private onHashed: (() => void) | undefined;
  private onDigest: ((hex: string) => void) | undefined;
  private onFailure: ((err: Error) => void) | undefined;
  private pending: Promise<void> | undefined;
  private result: Promise<string> | undefined;
  /** Set when no hashing thread could be started: the stream is hashed here instead. */
  private inline: Hash | undefined;

  constructor(
    private readonly ringBytes = THREADED_SHA256_RING_BYTES,
    private readonly minBytes = THREADED_SHA256_MIN_BYTES,
  ) {
    if (!(Number.isSafeInteger(ringBytes) && ringBytes > 0 && Number.isSafeInteger(minBytes) && minBytes >= 0 && minBytes <= ringBytes)) {
      throw new RangeError(`ThreadedSha256: want 0 <= minBytes (${minBytes}) <= ringBytes (${ringBytes}), ringBytes > 0`);
    }
  }

  /** Bytes taken so far. */
  get bytes(): number {
    return this.copied;
  }

  /** Whether the stream was handed to the hashing thread. */
  get threaded(): boolean {
    return this.thread !== undefined;
  }

  /** Copies `chunk` into the ring; a promise when it had to wait for room. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.result !== undefined) throw new Error('ThreadedSha256: update() after digest()');
    if (this.pending !== undefined) throw new Error('ThreadedSha256: update() while another one waits');
    if (this.failure) return Promise.reject(this.failure);
    const waiting = this.take(chunk, 0);
    if (waiting === undefined) return undefined;
    const pending = waiting.finally(() => {
      if (this.pending === pending) this.pending = undefined;
    });
    this.pending = pending;
    return pending;
  }

  private take(chunk: Uint8Array, from: number): Promise<void> | undefined {
    if (this.inline !== undefined) {
      this.inline.update(from === 0 ? chunk : chunk.subarray(from));
      this.copied += chunk.byteLength - from;
      return undefined;
    }
    if (this.memory === undefined) {
      this.memory = this.ringBytes === THREADED_SHA256_RING_BYTES ? spareRings.pop() : undefined;
      this.memory ??= new SharedArrayBuffer(HEADER_BYTES + this.ringBytes);
      this.header = new BigInt64Array(this.memory, 0, HEADER_BYTES / 8);
      this.ring = new Uint8Array(this.memory, HEADER_BYTES, this.ringBytes);
    }
    const ring = this.ring as Uint8Array;
    const header = this.header as BigInt64Array;
    let at = from;
    while (at < chunk.byteLength) {
      let room = this.ringBytes - (this.copied - this.hashed);
      if (room === 0 && this.thread !== undefined) {
        this.hashed = Number(Atomics.load(header, HASHED));
        room = this.ringBytes - (this.copied - this.hashed);
      }
      if (room === 0) {
        const next = at;
        return this.room().then(() => this.take(chunk, next));
      }
      const start = this.copied % this.ringBytes;
      const n = Math.min(room, chunk.byteLength - at, this.ringBytes - start);
      ring.set(n === chunk.byteLength ? chunk : chunk.subarray(at, at + n), start);
      this.copied += n;
      at += n;
      if (this.thread !== undefined) this.publish(COPIED, this.copied);
      else if (this.copied >= this.minBytes && !this.engage()) return this.take(chunk, at);
    }
    return undefined;
  }

  /** Sets a counter and wakes the thread if it sleeps. */
  private publish(index: number, value: number): void {
    const header = this.header as BigInt64Array;
    Atomics.store(header, index, BigInt(value));
    Atomics.add(header, CHANGES, 1n);
    Atomics.notify(header, CHANGES);
  }

  /**
   * Hands this stream to the hashing thread, with all it holds so far; false
   * when no thread could be started (the stream goes on hashing here).
   */
  private engage(): boolean {
    const header = this.header as BigInt64Array;
    Atomics.store(header, COPIED, BigInt(this.copied));
    let t: HashThread;
    try {
      t = sharedThread();
    } catch {
      this.inline = createHash('sha256').update((this.ring as Uint8Array).subarray(0, this.copied));
      this.recycle();
      return false;
    }
    t.open(this.id, this.memory as SharedArrayBuffer, this.ringBytes, {
      hashed: () => {
        const wake = this.onHashed;
        this.onHashed = undefined;
        wake?.();
      },
      digest: (hex) => {
        const done = this.onDigest;
        this.onDigest = undefined;
        this.onFailure = undefined;
        t.close(this.id);
        this.recycle();
        done?.(hex);
      },
      failed: (err) => {
        this.failure ??= err;
        const fail = this.onFailure;
        this.onFailure = undefined;
        this.onHashed = undefined;
        this.onDigest = undefined;
        fail?.(err);
      },
    });
    this.thread = t;
    return true;
  }

  /** Resolves once the ring has room (the thread hashed more). */
  private room(): Promise<void> {
    const header = this.header as BigInt64Array;
    // Ask to be told, then look again: the thread may have hashed in between (it clears the flag when it tells).
    Atomics.store(header, WAITING, 1n);
    this.hashed = Number(Atomics.load(header, HASHED));
    if (this.copied - this.hashed < this.ringBytes) return Promise.resolve();
    return this.wait<void>((resolve) => {
      this.onHashed = resolve;
    });
  }

  private wait<T>(arm: (resolve: (value: T) => void) => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const t = this.thread as HashThread;
    t.hold();
    return new Promise<T>((resolve, reject) => {
      arm(resolve);
      this.onFailure = reject;
    }).finally(() => t.release());
  }

  /**
   * Ends the stream: the hex sha256 of every byte taken (after an unsettled
   * `update()`). Idempotent: later calls get the same promise.
   */
  digest(): Promise<string> {
    this.result ??= (this.pending ?? Promise.resolve()).then(
      () => this.finish(),
      () => this.finish(),
    );
    return this.result;
  }

  /** Gives the ring back for a next stream once neither thread uses it. */
  private recycle(): void {
    const memory = this.memory;
    this.memory = undefined;
    this.header = undefined;
    this.ring = undefined;
    if (memory === undefined || memory.byteLength !== HEADER_BYTES + THREADED_SHA256_RING_BYTES || spareRings.length >= SPARE_RINGS) return;
    new BigInt64Array(memory, 0, HEADER_BYTES / 8).fill(0n);
    spareRings.push(memory);
  }

  private finish(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inline !== undefined) return Promise.resolve(this.inline.digest('hex'));
    if (this.thread === undefined) {
      // Never handed over: every byte is still in the ring, from its start.
      const hash = createHash('sha256');
      if (this.ring !== undefined) hash.update(this.ring.subarray(0, this.copied));
      this.recycle();
      return Promise.resolve(hash.digest('hex'));
    }
    const digest = this.wait<string>((resolve) => {
      this.onDigest = resolve;
    });
    this.publish(ENDED, 1);
    return digest;
  }
}
