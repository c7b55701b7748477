import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Size the first buffer starts at (it doubles up to `partBytes` as the file fills it). */
const FIRST_BUFFER_BYTES = 64 * 1024;

/** Where and how to upload. */
export interface PooledUploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  /** Bytes per part (≥ 5 MiB except the last). */
  partBytes: number;
  /** Parts uploading at once. */
  partsInFlight: number;
  /** Set when the upload should stop (abort); checked between parts. */
  signal: AbortSignal;
  /** Where the buffers beyond an upload's first come from (shared by the uploads of one store). */
  extraBuffers: BufferBudget;
}

/**
 * A count of part buffers that uploads may hold beyond their first, shared by
 * the uploads of one store: a fast file takes them and uploads parts in
 * parallel; one that fills slowly (a reject log beside the data file) finds
 * them taken and refills its one buffer once its part is up. An upload never
 * waits for another's buffers, only for its own parts, so it cannot deadlock.
 */
export class BufferBudget {
  constructor(private left: number) {}

  take(): boolean {
    if (this.left <= 0) return false;
    this.left--;
    return true;
  }

  give(n: number): void {
    this.left += n;
  }
}

/**
 * Streams `body` to one object: a single PutObject when it fits in one part,
 * else a multipart upload. Parts are filled, one copy per byte (the first
 * buffer grows by doubling, so a small file allocates about its own size),
 * into at most `partsInFlight + 1` buffers allocated once and reused (the
 * first is the upload's own, the others come from `extraBuffers` and go back
 * when it ends), so a file of any size holds `partBytes × (partsInFlight + 1)`
 * bytes, never more, the uploads of a store together one buffer each plus the
 * budget, and they leave
 * no garbage for the collector to catch up with (lib-storage's `Upload`
 * concatenates a fresh buffer per part: ~80 MB of extra peak RSS on a 1 GB
 * file). A failure aborts the multipart upload (best effort; `sweep` aborts
 * what a killed process left). Reading `body` is paused while every buffer
 * is busy, so the producer feels backpressure.
 */
export async function pooledUpload(body: Readable, o: PooledUploadOptions): Promise<void> {
  const free: Buffer[] = [];
  /** Part-size buffers of this upload: its own (the first, once grown to a part) and extras from the budget. */
  let allocated = 0;
  let extras = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  /** A buffer for the next part: a free one, a new one while the budget allows, else the next of its own parts to finish. */
  const take = async (): Promise<Buffer> => {
    for (;;) {
      const reused = free.pop();
      if (reused) return reused;
      if (allocated < o.partsInFlight + 1 && o.extraBuffers.take()) {
        allocated++;
        extras++;
        return Buffer.allocUnsafe(o.partBytes);
      }
      if (inFlight.size === 0) throw new Error('pooledUpload: no buffer free and no part in flight');
      await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
    }
  };
  // The first buffer starts small and doubles up to a part: a small file never pays for touching a whole part's pages.
  let current: Buffer = Buffer.allocUnsafe(Math.min(o.partBytes, FIRST_BUFFER_BYTES));
  let filled = 0;
  let uploadId: string | undefined;
  let partNumber = 0;
  const parts: CompletedPart[] = [];

  const sendPart = async (buffer: Buffer, length: number): Promise<void> => {
    if (uploadId === undefined) {
      const created = await o.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key }));
      uploadId = created.UploadId;
    }
    const n = ++partNumber;
    const run = o.client
      .send(new UploadPartCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId, PartNumber: n, Body: buffer.subarray(0, length), ContentLength: length }))
      .then(
        (out) => {
          parts.push({ PartNumber: n, ETag: out.ETag });
          free.push(buffer);
        },
        (err: unknown) => {
          failure ??= err;
        },
      )
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
    while (failure === undefined && inFlight.size >= o.partsInFlight) {
      await Promise.race(inFlight);
    }
    if (failure !== undefined) throw failure;
  };

  try {
    for await (const chunk of body) {
      if (o.signal.aborted) throw o.signal.reason ?? new Error('the upload was aborted');
      const bytes = chunk as Buffer;
      let offset = 0;
      while (offset < bytes.byteLength) {
        const n = Math.min(o.partBytes - filled, bytes.byteLength - offset);
        if (filled + n > current.byteLength) {
          const grown = Buffer.allocUnsafe(Math.min(o.partBytes, Math.max(2 * current.byteLength, filled + n)));
          if (grown.byteLength === o.partBytes) allocated++;
          current.copy(grown, 0, 0, filled);
          current = grown;
        }
        bytes.copy(current, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === o.partBytes) {
          await sendPart(current, filled);
          current = await take();
          filled = 0;
        }
      }
    }
    if (uploadId === undefined) {
      await o.client.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: current.subarray(0, filled), ContentLength: filled }));
      return;
    }
    if (filled > 0) await sendPart(current, filled);
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await o.client.send(new CompleteMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await o.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId })).catch(() => undefined);
    }
    throw err;
  } finally {
    o.extraBuffers.give(extras);
  }
}
