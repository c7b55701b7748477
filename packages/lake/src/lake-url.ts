import { InvalidInputError } from '@recomart/jobs';

/** Where the lake lives, from `LAKE_URL`. */
export type LakeLocation =
  /** `file:` (the default): the folder `$DATA_DIR/raw`. */
  | { kind: 'file' }
  /** `s3://bucket/prefix`: keys `<prefix>/<source>/yyyy/mm/dd/v<N>/…` in `bucket`. */
  | { kind: 's3'; bucket: string; prefix: string };

/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and hyphens (the rules every S3 server shares). */
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** One segment of a key prefix: the characters a lake file name may have. */
const PREFIX_SEGMENT_RE = /^[A-Za-z0-9_=+@,-][A-Za-z0-9._=+@,-]*$/;

/**
 * Parses `LAKE_URL`: `file:` or `s3://bucket[/prefix]`.
 * @throws InvalidInputError `LAKE_URL must be file: or s3://bucket/prefix, got "…"`
 */
export function parseLakeUrl(value: string, label = 'LAKE_URL'): LakeLocation {
  const refuse = (why: string) => new InvalidInputError(`${label} must be file: or s3://bucket/prefix (${why}), got ${JSON.stringify(value)}`);
  if (value === 'file:' || value === 'file://' || value === '') return { kind: 'file' };
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(value);
  if (!m) throw refuse(value.startsWith('s3:') ? 'no query, fragment or credentials' : 'unknown scheme');
  const bucket = m[1] as string;
  if (!BUCKET_RE.test(bucket) || bucket.includes('..')) throw refuse('the bucket name must be 3 to 63 of a-z 0-9 . -');
  const segments = (m[2] ?? '').split('/').filter((s) => s !== '');
  for (const s of segments) {
    if (!PREFIX_SEGMENT_RE.test(s)) throw refuse(`prefix segment ${JSON.stringify(s)} may only have letters, digits and ._-=+@, and not start with "."`);
  }
  return { kind: 's3', bucket, prefix: segments.join('/') };
}

/** The URL form of an S3 lake location (for messages, `lake show`, manifests' paths). */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
