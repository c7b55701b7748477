import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { TransientError } from '@recomart/jobs';
import { BufferBudget, pooledUpload } from './pooled-upload.js';
import { s3ErrorCode, s3Failure, s3Status, type S3Settings } from './s3-errors.js';
import { s3Url } from './lake-url.js';

/** How to reach the bucket. Credentials left out come from the AWS SDK's default chain (environment, profile, instance role). */
export interface S3Options {
  /** `S3_ENDPOINT`; unset = AWS S3. */
  endpoint?: string;
  /** `S3_REGION` @defaultValue `us-east-1` */
  region?: string;
  /** `S3_FORCE_PATH_STYLE`: `http://host/bucket/key` instead of `http://bucket.host/key`. @defaultValue false */
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request, the SDK's standard retry mode (backoff with jitter; `503 SlowDown` counts). @defaultValue 5 */
  maxAttempts?: number;
  /** Longest wait for a connection / for a response to start. @defaultValue 10 s / 60 s */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Receives debug lines (the SDK's Node-version notice). */
  debug?: (message: string) => void;
  /** Multipart part size (at least 5 MiB, the S3 minimum). @defaultValue MULTIPART_PART_BYTES */
  partBytes?: number;
  /** Parts of one file in flight. @defaultValue MULTIPART_QUEUE */
  partsInFlight?: number;
}

/**
 * Size of one multipart part. Memory of streamed files: at most `MULTIPART_PART_BYTES × (MULTIPART_QUEUE + 1)` per
 * file, and one part per file plus `MULTIPART_QUEUE` parts shared by all files of a store. @defaultValue 8 MiB
 */
export const MULTIPART_PART_BYTES = 8 * 1024 * 1024;
/** Parts of one file uploaded at once. @defaultValue 2 */
export const MULTIPART_QUEUE = 2;
/** Keys asked per DeleteObjects call (the S3 maximum). */
const DELETE_BATCH = 1000;

/** One listed object. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
  etag: string;
}

/** An incomplete multipart upload. */
export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: number;
}

/** A streamed upload under way. */
export interface StreamUpload {
  done: Promise<void>;
  abort(): Promise<void>;
}

/** The SDK's Node-version notice (`NodeVersionSupportWarning`) is said once per process, at debug level, not on stderr. */
let sdkNoticeSeen = false;

function quietClient(config: S3ClientConfig, debug: ((message: string) => void) | undefined): S3Client {
  const emit = process.emitWarning;
  const notices: string[] = [];
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.startsWith('NodeVersionSupportWarning')) notices.push(text.replace(/\s*\n\s*/g, ' '));
    else (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return new S3Client(config);
  } finally {
    process.emitWarning = emit;
    if (notices.length > 0 && !sdkNoticeSeen) {
      sdkNoticeSeen = true;
      debug?.(notices[0] as string);
    }
  }
}

/**
 * The few S3 calls the lake makes, on one client with keep-alive and bounded
 * retries. Every failure comes out as a named ingest error (`s3Failure`):
 * retryable unless the settings themselves were refused.
 */
export class ObjectStore {
  readonly client: S3Client;
  readonly settings: S3Settings;
  private readonly partBytes: number;
  private readonly partsInFlight: number;
  /** Part buffers the streamed uploads of this store hold beyond one each. */
  private readonly extraBuffers: BufferBudget;

  constructor(
    readonly bucket: string,
    options: S3Options = {},
  ) {
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    this.settings = { bucket, endpoint: options.endpoint };
    this.partBytes = Math.max(5 * 1024 * 1024, options.partBytes ?? MULTIPART_PART_BYTES);
    this.partsInFlight = Math.max(1, options.partsInFlight ?? MULTIPART_QUEUE);
    this.extraBuffers = new BufferBudget(this.partsInFlight);
    this.client = quietClient(
      {
        region: options.region ?? 'us-east-1',
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        forcePathStyle: options.forcePathStyle ?? false,
        // A copy: the SDK marks the object it is given (a frozen configuration would make it throw).
        ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
        maxAttempts: options.maxAttempts ?? 5,
        retryMode: 'standard',
        // Streams of unknown length: no SDK checksum trailer (some servers answer 411); the lake hashes itself.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        requestHandler: {
          httpAgent: new HttpAgent(agentOptions),
          httpsAgent: new HttpsAgent(agentOptions),
          connectionTimeout: options.connectionTimeoutMs ?? 10_000,
          requestTimeout: options.requestTimeoutMs ?? 60_000,
        },
      },
      options.debug,
    );
  }

  url(key: string): string {
    return s3Url(this.bucket, key);
  }

  private fail(err: unknown, what: string): never {
    throw s3Failure(err, what, this.settings);
  }

  /** PUT unless the key exists (`If-None-Match: *`): the ETag, or `exists` when another writer got there first. */
  async putIfAbsent(key: string, body: string | Uint8Array): Promise<{ etag: string } | 'exists'> {
    try {
      const out = await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*' }));
      return { etag: out.ETag ?? '' };
    } catch (err) {
      if (isLostCondition(err)) return 'exists';
      return this.fail(err, `writing ${this.url(key)}`);
    }
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
    } catch (err) {
      this.fail(err, `writing ${this.url(key)}`);
    }
  }

  /** Streams `body` to `key`: one PUT when small, else a multipart upload from reused buffers (`pooledUpload`; aborted on failure). */
  upload(key: string, body: Readable): StreamUpload {
    const stop = new AbortController();
    const done = pooledUpload(body, { client: this.client, bucket: this.bucket, key, partBytes: this.partBytes, partsInFlight: this.partsInFlight, signal: stop.signal, extraBuffers: this.extraBuffers }).catch(
      (err: unknown) => this.fail(err, `uploading ${this.url(key)}`),
    );
    done.catch(() => undefined);
    return {
      done,
      abort: async () => {
        stop.abort();
        body.destroy();
        await done.catch(() => undefined);
      },
    };
  }

  /** HEAD: size, ETag and time, or undefined when the key does not exist. */
  async head(key: string): Promise<{ etag: string; size: number; lastModified: number } | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { etag: out.ETag ?? '', size: out.ContentLength ?? 0, lastModified: out.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isMissing(err)) return undefined;
      return this.fail(err, `reading ${this.url(key)}`);
    }
  }

  /** A small object's bytes (refused above `limit`), or undefined when it does not exist. */
  async getSmall(key: string, limit: number): Promise<Buffer | undefined> {
    const body = await this.getStream(key);
    if (body === undefined) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).byteLength;
        if (size > limit) throw new Error(`${this.url(key)} is more than ${limit} bytes`);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      body.destroy();
      return this.fail(err, `reading ${this.url(key)}`);
    }
    return Buffer.concat(chunks);
  }

  /**
   * The object's bytes as a stream, or undefined when it does not exist.
   * With `ifMatch` (an ETag from a listing) a changed object is a retryable failure, not other bytes.
   */
  async getStream(key: string, ifMatch?: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(ifMatch ? { IfMatch: ifMatch } : {}) }));
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return undefined;
      if (ifMatch !== undefined && isLostCondition(err)) throw new TransientError(`lake: ${this.url(key)} changed since it was listed`, { cause: err });
      return this.fail(err, `reading ${this.url(key)}`);
    }
  }

  /** Every object under `prefix` (all pages). */
  async listObjects(prefix: string): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, undefined, token);
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified?.getTime() ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  /** The names one level below `prefix` (which ends in `/`) that hold objects, without the trailing `/`. */
  async listChildren(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, '/', token);
      for (const p of page.CommonPrefixes ?? []) {
        if (p.Prefix !== undefined) out.push(p.Prefix.slice(prefix.length, -1));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  private async listPage(prefix: string, delimiter: string | undefined, token: string | undefined) {
    try {
      return await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}), ...(token ? { ContinuationToken: token } : {}) }),
      );
    } catch (err) {
      return this.fail(err, `listing ${this.url(prefix)}`);
    }
  }

  async copy(from: string, to: string): Promise<void> {
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${encodeURIComponent(from).replace(/%2F/g, '/')}` }));
    } catch (err) {
      this.fail(err, `copying ${this.url(from)} to ${this.url(to)}`);
    }
  }

  /** Deletes keys (a missing key is no error). */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const failed = (out.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
        if (failed.length > 0) throw Object.assign(new Error(`${failed.length} keys not deleted, first ${failed[0]?.Key ?? '?'}: ${failed[0]?.Message ?? ''}`), { Code: failed[0]?.Code });
      } catch (err) {
        this.fail(err, `deleting ${batch.length} objects under ${this.url(commonPrefix(batch))}`);
      }
    }
  }

  /** Incomplete multipart uploads under `prefix`. */
  async listPendingUploads(prefix: string): Promise<PendingUpload[]> {
    const out: PendingUpload[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(idMarker ? { UploadIdMarker: idMarker } : {}) }),
        );
      } catch (err) {
        return this.fail(err, `listing the multipart uploads under ${this.url(prefix)}`);
      }
      for (const u of page.Uploads ?? []) {
        if (u.Key !== undefined && u.UploadId !== undefined) out.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated?.getTime() ?? 0 });
      }
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async abortUpload(upload: PendingUpload): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.uploadId }));
    } catch (err) {
      if (s3ErrorCode(err) === 'NoSuchUpload' || s3Status(err) === 404) return;
      this.fail(err, `aborting the multipart upload of ${this.url(upload.key)}`);
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** A conditional write that lost: 412, or 409 when another conditional write to the key is in flight. */
function isLostCondition(err: unknown): boolean {
  const status = s3Status(err);
  const code = s3ErrorCode(err);
  return status === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict' || (status === 409 && code !== 'BucketAlreadyExists');
}

function isMissing(err: unknown): boolean {
  const code = s3ErrorCode(err);
  return (code === 'NoSuchKey' || code === 'NotFound' || s3Status(err) === 404) && code !== 'NoSuchBucket';
}

function commonPrefix(keys: readonly string[]): string {
  let p = keys[0] ?? '';
  for (const k of keys) while (!k.startsWith(p)) p = p.slice(0, p.lastIndexOf('/', p.length - 2) + 1);
  return p;
}
