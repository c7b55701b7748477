import { FsLake, type FsLakeOptions } from './fs-lake.js';
import { parseLakeUrl } from './lake-url.js';
import type { S3Options } from './object-store.js';
import { S3Lake } from './s3-lake.js';
import type { Lake } from './types.js';

/** How to open the lake: the folder under `dataDir`, or the bucket `url` names. */
export interface LakeOptions extends FsLakeOptions {
  /** `LAKE_URL`: `file:` (the folder `$DATA_DIR/raw`) or `s3://bucket/prefix`. @defaultValue `file:` */
  url?: string;
  /** How to reach the bucket (`S3_ENDPOINT`, `S3_REGION` …); only for `s3://`. */
  s3?: S3Options;
}

/**
 * Opens the raw lake (nothing is created or contacted until the first call
 * that needs it). `fileSystem` applies to the folder lake only.
 */
export function openLake(options: LakeOptions): Lake {
  const where = parseLakeUrl(options.url ?? 'file:');
  if (where.kind === 'file') return new FsLake(options);
  return new S3Lake({
    dataDir: options.dataDir,
    bucket: where.bucket,
    prefix: where.prefix,
    ...(options.s3 === undefined ? {} : { s3: options.s3 }),
    ...(options.codeVersion === undefined ? {} : { codeVersion: options.codeVersion }),
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.host === undefined ? {} : { host: options.host }),
  });
}
