import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '@recomart/jobs';
import { openLake, stopSha256Thread, THREADED_SHA256_MIN_BYTES } from '@recomart/lake';
import { sessionInit, tempDataDirEach, treeOf } from './temp-lake.js';

const data = tempDataDirEach('lake-threaded-hash-');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Writes `chunks` into the sink, waiting on backpressure, without ending it. */
async function writeAll(stream: NodeJS.WritableStream, chunks: Buffer[]): Promise<void> {
  for (const c of chunks) {
    if (!stream.write(c)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
}

afterEach(async () => {
  await stopSha256Thread();
});

describe('a streamed staged file hashed on the sha256 thread', () => {
  it('fails its done with a retryable error naming the file when the thread stops mid-file; the session aborts clean', async () => {
    const lake = openLake({ dataDir: data.dir });
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('big.bin', 'generated');
    // Past the threshold: the file is on the thread.
    await writeAll(sink.stream, [Buffer.alloc(THREADED_SHA256_MIN_BYTES, 1), Buffer.alloc(256 * 1024, 2)]);
    await stopSha256Thread();
    sink.stream.write(Buffer.alloc(256 * 1024, 3));
    sink.stream.end();
    const err = await sink.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    expect(String(err)).toMatch(/hashing staged file "big\.bin" failed: the sha256 thread was stopped/);
    await session.abort();
    expect(await treeOf(path.join(data.dir, 'raw'))).not.toContain('big.bin');
  });

  it('a quarantined unfinished file is listed with the sha256 of the bytes it got', async () => {
    const lake = openLake({ dataDir: data.dir });
    const session = await lake.begin(sessionInit());
    const sink = session.createFile('big.bin', 'generated');
    const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(200_000, i));
    await writeAll(sink.stream, chunks);
    // Every write completed (drained, no write pending): the listing covers exactly these bytes.
    await new Promise<void>((resolve) => (sink.stream.writableLength === 0 ? resolve() : sink.stream.once('drain', () => resolve())));
    const { path: where } = await session.quarantine('bad rows');
    const reason = JSON.parse(await readFile(path.join(where, '_reason.json'), 'utf8')) as { files: unknown[] };
    const whole = Buffer.concat(chunks);
    expect(reason.files).toEqual([{ path: 'big.bin', origin: 'generated', bytes: whole.byteLength, sha256: sha(whole), complete: false }]);
    expect(sha(await readFile(path.join(where, 'big.bin')))).toBe(sha(whole));
    await expect(sink.done).rejects.toThrow(/quarantined/);
  });
});
