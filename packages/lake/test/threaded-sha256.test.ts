import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { stopSha256Thread, ThreadedSha256, THREADED_SHA256_MIN_BYTES, THREADED_SHA256_RING_BYTES } from '@recomart/lake';
import { seededRandom } from '../../../test/helpers/seeded-random.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');


/** Feeds `data` in the given chunk sizes, waiting whenever `update()` asks to; the chunk is overwritten once taken (the caller may reuse it). */
async function hashInChunks(h: ThreadedSha256, data: Buffer, sizes: number[]): Promise<string> {
  let at = 0;
  for (const size of sizes) {
    const chunk = Buffer.from(data.subarray(at, at + size));
    const wait = h.update(chunk);
    if (wait !== undefined) await wait;
    chunk.fill(0xa5);
    at += size;
  }
  return h.digest();
}

/** Random chunk sizes covering `total`: empty chunks, single bytes, and chunks larger than `ring`. */
function chunking(total: number, ring: number, rand: () => number): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const r = rand();
    const size = r < 0.1 ? 0 : r < 0.2 ? 1 : r < 0.3 ? Math.floor(ring * (1 + 2 * rand())) : Math.floor(rand() * ring * 0.6) + 1;
    const n = Math.min(size, left);
    sizes.push(n);
    left -= n;
  }
  return sizes;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

afterEach(async () => {
  await stopSha256Thread();
});

describe('ThreadedSha256', () => {
  it('equals createHash on random chunkings, small rings and the default one, empty input included', async () => {
    const cases: Array<{ seed: number; total: number; ring: number; min: number }> = [
      { seed: 1, total: 0, ring: 4096, min: 1024 },
      { seed: 2, total: 1, ring: 4096, min: 1024 },
      { seed: 3, total: 1023, ring: 4096, min: 1024 },
      { seed: 4, total: 1024, ring: 4096, min: 1024 },
      { seed: 5, total: 4096, ring: 4096, min: 4096 },
      { seed: 6, total: 100_003, ring: 4096, min: 0 },
      { seed: 7, total: 300_000, ring: 65_536, min: 1024 },
      { seed: 8, total: 0, ring: THREADED_SHA256_RING_BYTES, min: THREADED_SHA256_MIN_BYTES },
      { seed: 9, total: THREADED_SHA256_MIN_BYTES - 1, ring: THREADED_SHA256_RING_BYTES, min: THREADED_SHA256_MIN_BYTES },
      { seed: 10, total: 5 * THREADED_SHA256_RING_BYTES + 17, ring: THREADED_SHA256_RING_BYTES, min: THREADED_SHA256_MIN_BYTES },
    ];
    for (let seed = 11; seed < 41; seed++) cases.push({ seed, total: Math.floor(seededRandom(seed)() * 200_000), ring: 8192, min: 2048 });
    for (const c of cases) {
      const rand = seededRandom(c.seed);
      const data = randomBytes(c.total);
      const sizes = chunking(c.total, c.ring, rand);
      const h = new ThreadedSha256(c.ring, c.min);
      const got = await hashInChunks(h, data, sizes);
      expect(got, `seed ${c.seed}: ${c.total} bytes in ${sizes.length} chunks, ring ${c.ring}, min ${c.min} (threaded: ${h.threaded})`).toBe(sha256(data));
      expect(h.bytes).toBe(c.total);
      expect(h.threaded, `seed ${c.seed}`).toBe(c.total > 0 && c.total >= c.min);
    }
  });

  it('hashes a short stream where it was written, with no thread', async () => {
    const h = new ThreadedSha256();
    const data = randomBytes(THREADED_SHA256_MIN_BYTES - 1);
    expect(h.update(data)).toBeUndefined();
    expect(await h.digest()).toBe(sha256(data));
    expect(h.threaded).toBe(false);
  });

  it('holds at most a ring of bytes: a larger chunk waits for the thread, then all of it is hashed', async () => {
    const h = new ThreadedSha256(64 * 1024, 1024);
    const data = randomBytes(1024 * 1024);
    const wait = h.update(data);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(await h.digest()).toBe(sha256(data));
  });

  it('digest() waits for an update still waiting for room, and is the same promise when asked again', async () => {
    const h = new ThreadedSha256(4096, 1024);
    const data = randomBytes(100_000);
    const wait = h.update(data);
    expect(wait).toBeInstanceOf(Promise);
    const first = h.digest();
    expect(h.digest()).toBe(first);
    expect(await first).toBe(sha256(data));
  });

  it('refuses overlapping calls and an update after the digest', async () => {
    const h = new ThreadedSha256(4096, 1024);
    const wait = h.update(randomBytes(20_000));
    expect(() => h.update(Buffer.from('x'))).toThrow('update() while another one waits');
    await wait;
    await h.digest();
    expect(() => h.update(Buffer.from('x'))).toThrow('update() after digest()');
    expect(() => new ThreadedSha256(1024, 2048)).toThrow(RangeError);
  });

  it('fails the pending update, the digest and later updates when the thread stops; a next stream gets a new thread', async () => {
    const h = new ThreadedSha256(4096, 1024);
    // Engaged, with more than a ring to go: the update waits for the thread.
    const wait = h.update(randomBytes(1024 * 1024));
    expect(h.threaded).toBe(true);
    const waited = wait?.then(
      () => 'resolved',
      (err: unknown) => String(err),
    );
    await stopSha256Thread();
    // Either the thread hashed it all before it stopped, or the wait failed; the digest cannot succeed.
    expect(await waited).toMatch(/^(resolved|Error: the sha256 thread was stopped)$/);
    await expect(h.digest()).rejects.toThrow('the sha256 thread was stopped');

    const next = new ThreadedSha256(4096, 1024);
    const data = randomBytes(50_000);
    expect(await hashInChunks(next, data, [10_000, 40_000])).toBe(sha256(data));
    expect(next.threaded).toBe(true);
  });

  it('does not keep a process alive: one that handed streams to the thread exits by itself, a dropped one too', async () => {
    // The built package, as a worker process runs it (npm test builds first). Two children: one ends its stream
    // (it waited on the thread), one drops a stream on the thread without ever waiting on it (a writer that gave up).
    const ended = `
      import { createHash } from 'node:crypto';
      import { ThreadedSha256 } from '@recomart/lake';
      const data = Buffer.alloc(3 * 1024 * 1024, 7);
      const h = new ThreadedSha256();
      for (let at = 0; at < data.length; at += 100000) await h.update(data.subarray(at, at + 100000));
      const got = await h.digest();
      process.stdout.write(JSON.stringify({ threaded: h.threaded, ok: got === createHash('sha256').update(data).digest('hex') }));
    `;
    const dropped = `
      import { ThreadedSha256 } from '@recomart/lake';
      const h = new ThreadedSha256();
      const wait = h.update(Buffer.alloc(600 * 1024, 1));
      process.stdout.write(JSON.stringify({ threaded: h.threaded, ok: wait === undefined }));
    `;
    const run = async (script: string) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      // A child the thread held open would outlive a timed-out test.
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // The test's timeout bounds the wait: a process held open by the thread never exits.
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { code, out, err };
    };
    const expected = { code: 0, out: JSON.stringify({ threaded: true, ok: true }), err: '' };
    expect(await run(ended)).toEqual(expected);
    expect(await run(dropped)).toEqual(expected);
  });
});
